# SPDX-License-Identifier: MIT
"""Validates one object against the Kubernetes API's schemas, as given by
the model classes of Debian's python3-kubernetes (bookworm: 22.6.0, the
Kubernetes 1.22 API), or, for MetalLB's CRDs, against
tests/k8s/metallb-schema.json.

Every model class has openapi_types (attribute -> type) and attribute_map
(attribute -> JSON field name), generated from the API's OpenAPI document,
so the walk below checks each field's name and type recursively. A field
the model does not know is refused, as the API server's strict field
validation (kubectl's default) refuses it: otherwise a misspelt field would
pass and be dropped by the cluster. A required field is one whose setter
refuses None (the models' client-side validation).

The 1.22 models predate parts of the API deploy/k8s uses; NEWER lists
those, written down from the API reference, and SUBSTITUTE maps an
apiVersion to the 1.22 one with the same fields."""
import json
import os
import re

import kubernetes.client
from kubernetes.client import models

from . import jsonschema

# autoscaling/v2 HorizontalPodAutoscaler is GA since Kubernetes 1.23, so
# not in the 1.22 models; autoscaling/v2beta2 has the same fields for what
# deploy/k8s uses (scaleTargetRef, min/maxReplicas, Resource metrics with a
# Utilization target, behavior.scaleDown policies): v2 changed none of
# them.
SUBSTITUTE = {'autoscaling/v2': 'autoscaling/v2beta2'}

# Fields added after 1.22: {model: {JSON field: type}}, and the new models
# they need as {name: ({JSON field: type}, required fields)}.
# - preStop/postStart "sleep" (Kubernetes 1.30, the LifecycleHandler; 1.22
#   calls that type V1Handler)
NEWER = {'V1Handler': {'sleep': 'SleepAction'}}
NEWER_MODELS = {'SleepAction': ({'seconds': 'int'}, {'seconds'})}

# Fields whose values the API server checks against a fixed set (1.22's
# models take any string): a typo here would be refused by the cluster.
ENUMS = {
    ('V1ContainerPort', 'protocol'): {'TCP', 'UDP', 'SCTP'},
    ('V1ServicePort', 'protocol'): {'TCP', 'UDP', 'SCTP'},
    ('V1NetworkPolicyPort', 'protocol'): {'TCP', 'UDP', 'SCTP'},
    ('V1Container', 'imagePullPolicy'): {'Always', 'IfNotPresent', 'Never'},
    ('V1ServiceSpec', 'type'): {'ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'},
    ('V1ServiceSpec', 'externalTrafficPolicy'): {'Cluster', 'Local'},
    ('V1ServiceSpec', 'ipFamilyPolicy'): {'SingleStack', 'PreferDualStack', 'RequireDualStack'},
    ('V1DeploymentStrategy', 'type'): {'RollingUpdate', 'Recreate'},
    ('V1SeccompProfile', 'type'): {'RuntimeDefault', 'Localhost', 'Unconfined'},
    ('V1TopologySpreadConstraint', 'whenUnsatisfiable'): {'DoNotSchedule', 'ScheduleAnyway'},
    ('V2beta2MetricSpec', 'type'): {'Resource', 'Pods', 'Object', 'External', 'ContainerResource'},
    ('V2beta2MetricTarget', 'type'): {'Utilization', 'Value', 'AverageValue'},
}

_CONFIG = kubernetes.client.Configuration()  # client_side_validation on
_FIELDS = {}


def fields(model):
    """({JSON field: type}, required JSON fields) of a model class name."""
    if model in NEWER_MODELS:
        return NEWER_MODELS[model]
    if model not in _FIELDS:
        cls = getattr(models, model)
        probe = cls.__new__(cls)  # no __init__: it would run every setter
        probe.local_vars_configuration = _CONFIG
        types, required = {}, set()
        for attr, t in cls.openapi_types.items():
            name = cls.attribute_map[attr]
            types[name] = t
            try:
                setattr(probe, attr, None)
            except ValueError:
                required.add(name)
        types.update(NEWER.get(model, {}))
        _FIELDS[model] = (types, required)
    return _FIELDS[model]


def model_for(api_version, kind):
    """The model class name for apiVersion and kind, or None when the
    API does not serve that kind in that group and version: the group's
    API class (apps/v1 -> AppsV1Api, v1 -> CoreV1Api) must have the kind's
    read method, so a kind under the wrong group is refused too."""
    group, _, version = SUBSTITUTE.get(api_version, api_version).rpartition('/')
    gname = ''.join(p.capitalize() for p in group.removesuffix('.k8s.io').split('.')) or 'Core'
    api = getattr(kubernetes.client, f'{gname}{version.capitalize()}Api', None)
    snake = re.sub(r'(?<!^)(?=[A-Z])', '_', kind).lower()
    if api is None or not (hasattr(api, f'read_namespaced_{snake}') or hasattr(api, f'read_{snake}')):
        return None
    for name in (f'{gname}{version.capitalize()}{kind}', f'{version.capitalize()}{kind}'):
        if hasattr(models, name):
            return name
    return None


def _type_errors(v, t, path, model=None, field=None):
    """Errors of value v against a model type t (openapi_types syntax)."""
    m = re.fullmatch(r'list\[(.+)\]', t)
    if m:
        if not isinstance(v, list):
            return [f'{path}: must be a list']
        return [e for i, x in enumerate(v) for e in _type_errors(x, m.group(1), f'{path}[{i}]')]
    m = re.fullmatch(r'dict\(str, (.+)\)', t)
    if m:
        if not isinstance(v, dict):
            return [f'{path}: must be a map']
        return [e for k, x in v.items() for e in _type_errors(x, m.group(1), f'{path}.{k}')]
    # bool is an int in Python, never in JSON
    is_int = isinstance(v, int) and not isinstance(v, bool)
    ok = {
        'str': isinstance(v, str),
        'int': is_int,
        'float': is_int or isinstance(v, float),
        'bool': isinstance(v, bool),
        'datetime': isinstance(v, str),
        'date': isinstance(v, str),
        # every "object" field of the kinds deploy/k8s has is an
        # IntOrString (ports, targetPort, maxSurge, maxUnavailable,
        # minAvailable); the free-form ones are in CRDs, managedFields and
        # ControllerRevision
        'object': is_int or isinstance(v, str),
    }.get(t)
    if ok is False:
        return [f'{path}: must be {"int or string" if t == "object" else t}, not {type(v).__name__} {v!r}']
    if ok:
        allowed = ENUMS.get((model, field))
        if allowed and v not in allowed:
            return [f'{path}: {v!r} is not one of {", ".join(sorted(allowed))}']
        return []
    if not isinstance(v, dict):
        return [f'{path}: must be an object ({t})']
    types, required = fields(t)
    errs = [f'{path}.{f}: required' for f in sorted(required) if f not in v]
    for k, x in v.items():
        if k not in types:
            errs.append(f'{path}.{k}: unknown field')
        else:
            errs += _type_errors(x, types[k], f'{path}.{k}', t, k)
    return errs


_here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(_here, '..', 'metallb-schema.json'), encoding='utf-8') as _f:
    METALLB = json.load(_f)


def errors(o):
    """The list of problems of object o (empty when valid), or None when no
    schema is known for its apiVersion and kind."""
    o = {k: v for k, v in o.items() if not k.startswith('__')}
    crd = METALLB['kinds'].get(f"{o.get('apiVersion')}/{o.get('kind')}")
    if crd:
        return jsonschema.errors(crd, o, METALLB)
    model = model_for(o.get('apiVersion', ''), o.get('kind', ''))
    if model is None:
        return None
    return [e.lstrip('.') for e in _type_errors(o, model, '')]


def validate(o):
    """(ok, why): the object's verdict, why naming every problem."""
    errs = errors(o)
    if errs is None:
        return False, f"no schema for {o.get('apiVersion')} {o.get('kind')}"
    return not errs, '; '.join(errs)
