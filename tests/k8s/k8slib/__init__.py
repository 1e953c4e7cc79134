# SPDX-License-Identifier: MIT
"""tests/k8s's library: render kustomizations (render), validate objects
against the Kubernetes API models and MetalLB's schema (schema, jsonschema),
check the cross-references between them (refs) and with the daemons' own
files (daemons), read those INI files (ini). Standard library,
python3-yaml and python3-kubernetes only."""
