# SPDX-License-Identifier: MIT
"""The part of JSON Schema that tests/k8s/metallb-schema.json uses (type,
const, enum, pattern, maxLength, minimum, maximum, minItems, required,
properties, additionalProperties, items, oneOf, local $ref), so MetalLB's
objects are checked without a package that Debian's python3 lacks."""
import re

TYPES = {
    'object': lambda v: isinstance(v, dict),
    'array': lambda v: isinstance(v, list),
    'string': lambda v: isinstance(v, str),
    # bool is an int in Python, never in JSON
    'integer': lambda v: isinstance(v, int) and not isinstance(v, bool),
    'number': lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    'boolean': lambda v: isinstance(v, bool),
}


def errors(schema, v, root, path=''):
    """The list of "path: problem" strings, empty when v is valid. root is
    the document "#/definitions/..." references resolve in."""
    at = path or '/'
    if '$ref' in schema:
        node = root
        for part in schema['$ref'].lstrip('#/').split('/'):
            node = node[part]
        return errors(node, v, root, path)
    if 'type' in schema and not TYPES[schema['type']](v):
        return [f"{at}: must be {schema['type']}"]
    out = []
    if 'const' in schema and v != schema['const']:
        out.append(f"{at}: must be {schema['const']!r}")
    if 'enum' in schema and v not in schema['enum']:
        out.append(f"{at}: must be one of {schema['enum']}")
    if isinstance(v, str):
        if 'pattern' in schema and not re.search(schema['pattern'], v):
            out.append(f"{at}: must match {schema['pattern']}")
        if len(v) > schema.get('maxLength', len(v)):
            out.append(f"{at}: longer than {schema['maxLength']}")
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if v < schema.get('minimum', v) or v > schema.get('maximum', v):
            out.append(f"{at}: outside {schema.get('minimum')}..{schema.get('maximum')}")
    if isinstance(v, list):
        if len(v) < schema.get('minItems', 0):
            out.append(f"{at}: fewer than {schema['minItems']} items")
        for i, e in enumerate(v):
            out += errors(schema.get('items', {}), e, root, f'{path}/{i}')
    if isinstance(v, dict):
        props = schema.get('properties', {})
        extra = schema.get('additionalProperties', True)
        out += [f'{path}/{k}: required' for k in schema.get('required', []) if k not in v]
        for k, e in v.items():
            if k in props:
                out += errors(props[k], e, root, f'{path}/{k}')
            elif extra is False:
                out.append(f'{path}/{k}: unknown field')
            elif isinstance(extra, dict):
                out += errors(extra, e, root, f'{path}/{k}')
    if 'oneOf' in schema:
        n = sum(not errors(s, v, root, path) for s in schema['oneOf'])
        if n != 1:
            out.append(f'{at}: matches {n} of oneOf, not exactly one')
    return out
