// SPDX-License-Identifier: MIT
// Reads the daemons' INI configuration files (user/lib/runtime/config.c:
// "[section]", "key = value", '#' and ';' start comments).
'use strict';

function parseIni(text) {
	const out = {};
	let sec = '';
	for (const raw of text.split('\n')) {
		const line = raw.trim();
		if (!line || line[0] === '#' || line[0] === ';') continue;
		const m = /^\[([^\]]+)\]$/.exec(line);
		if (m) {
			sec = m[1];
			out[sec] = out[sec] || {};
			continue;
		}
		const eq = line.indexOf('=');
		if (eq > 0) out[sec][line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
	}
	return out;
}

// "0.0.0.0:9101" / "[::]:7100" -> { host, port }
function hostPort(s) {
	const m = /^\[?([^\]]*)\]?:(\d+)$/.exec(s || '');
	return m ? { host: m[1], port: Number(m[2]) } : null;
}

// "10s", "500ms", "2m" -> seconds
function seconds(s) {
	const m = /^(\d+)(ms|s|m|h|d)?$/.exec(s || '');
	if (!m) return NaN;
	const f = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 }[m[2] || 's'];
	return Number(m[1]) * f;
}

module.exports = { parseIni, hostPort, seconds };
