#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""tests/k8s/validate.py: renders kustomizations and prints TAP lines
("ok - ..." / "not ok - ..." with "#" reasons) for the suite to number:

  validate.py --secrets secrets.yaml --version V [--dump DIR]
              [--with DIR]... KUSTOMIZATION_DIR...

Each directory: every object against the API schemas (k8slib/schema.py),
every YAML file of the directory listed in its kustomization, and the
cross-references (k8slib/refs.py, daemons.py) over its objects plus those of every
--with directory (deploy/k8s/metallb: the pool the Services name).
--dump DIR writes DIR/<name>.json (the rendered objects) for the suite's
pod runs. First the checkers themselves must catch planted mistakes."""
import argparse
import copy
import json
import os
import sys

from k8slib import daemons, refs, render, schema

failed = 0


def tap(ok, name, why=''):
    global failed
    print(f"{'ok' if ok else 'not ok'} - {name}")
    if not ok:
        failed += 1
        if why:
            print(f'#   {why}')


def cross_checks(objs, secrets, version):
    """Every cross-reference check over objs: a list of (name, ok, why)."""
    c = refs.Checks(objs, secrets, version)
    refs.check_objects(c)
    if c.workloads:
        daemons.check(c)
    refs.check_metallb(c)
    return c.results


def self_checks(objs, secrets, version):
    """A misspelt field, a wrong type and a Service selecting no pod must
    be caught, or a passing run proves nothing."""
    dep = next(o for o in objs if o['kind'] == 'Deployment')
    typo = copy.deepcopy(dep)
    typo['spec']['template']['spec']['containers'][0]['readinesProbe'] = {'periodSeconds': 2}
    ok, why = schema.validate(typo)
    tap(not ok and 'readinesProbe' in why,
        'schema checker: a planted misspelt field (readinesProbe) is refused', why)
    bad = copy.deepcopy(dep)
    bad['spec']['replicas'] = 'three'
    ok, why = schema.validate(bad)
    tap(not ok and 'spec.replicas' in why, 'schema checker: a planted wrong type (replicas: "three") is refused', why)
    svc = copy.deepcopy(next(o for o in objs if o['kind'] == 'Service'))
    svc['metadata']['name'] = 'planted'
    svc['spec']['selector'] = {'app.kubernetes.io/name': 'no-such-pod'}
    res = cross_checks(objs + [svc], secrets, version)
    caught = [n for n, ok, _ in res if not ok and n.startswith('Service/planted:')]
    tap(caught == ['Service/planted: selects exactly one workload'],
        'reference checker: a planted Service whose selector matches no pod is refused',
        f'failed checks: {caught}')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--secrets', required=True)
    ap.add_argument('--version', required=True)
    ap.add_argument('--dump')
    ap.add_argument('--with', dest='extra', action='append', default=[])
    ap.add_argument('dirs', nargs='+')
    opt = ap.parse_args()

    # Secret name -> its keys, as secrets.sh writes them
    secrets = {s['metadata']['name']: set(s.get('data') or {})
               for s in render.load_docs(opt.secrets) if s.get('kind') == 'Secret'}
    try:
        self_checks(render.render(opt.dirs[0])[0], secrets, opt.version)
    except Exception as e:  # a broken manifest: say so, as TAP
        tap(False, 'checkers catch planted mistakes', f'{type(e).__name__}: {e}')

    for d in opt.dirs:
        name = os.path.relpath(d)
        try:
            objs, files = render.render(d)
        except (render.RenderError, OSError, KeyError) as e:
            tap(False, f'{name}: renders', str(e))
            continue
        tap(True, f'{name}: renders ({len(objs)} objects)')
        listed = {os.path.realpath(f) for f in files}
        orphans = sorted(f for f in os.listdir(d)
                         if f.endswith(('.yaml', '.yml')) and f != 'kustomization.yaml'
                         and os.path.realpath(os.path.join(d, f)) not in listed)
        tap(not orphans, f'{name}: kustomization.yaml lists every manifest of the directory', ', '.join(orphans))
        for o in objs:
            ok, why = schema.validate(o)
            n = f"{o['__generatedFrom']}-<hash>" if '__generatedFrom' in o else o['metadata']['name']
            tap(ok, f"{name}: {o['apiVersion']} {o['kind']}/{n} matches the API schema (strict fields)", why)
        others = [x for e in opt.extra if os.path.realpath(e) != os.path.realpath(d)
                  for x in render.render(e)[0]]
        try:
            for n, ok, why in cross_checks(objs + others, secrets, opt.version):
                tap(ok, f'{name}: {n}', why)
        except Exception as e:  # a field of the wrong type the schema check names above
            tap(False, f'{name}: cross-references can be evaluated', f'{type(e).__name__}: {e}')
        if opt.dump:
            os.makedirs(opt.dump, exist_ok=True)
            with open(os.path.join(opt.dump, f'{os.path.basename(d)}.json'), 'w', encoding='utf-8') as f:
                json.dump(objs, f, indent=1)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
