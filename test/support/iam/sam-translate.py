"""Translate a SAM template (JSON on stdin) into plain CloudFormation JSON (stdout).

The same call `sam validate` and cfn-lint make: samtranslator's transform with a managed-policy
loader. The template names no AWS managed policy by name (SAM adds AWSLambdaBasicExecutionRole
by ARN itself), so the loader answers an empty map, as cfn-lint's does; a name it cannot
resolve makes the translator fail loudly rather than guess an ARN.
Local CodeUri/DefinitionUri are what `sam package` would upload; like cfn-lint, point them
at an S3 location so the translator accepts them (the test reads the definition itself).
"""
import json
import os
import sys

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from samtranslator.translator.transform import transform  # noqa: E402


class EmptyManagedPolicyLoader:
    def load(self):
        return {}


def point_local_uris_at_s3(template):
    for logical_id, resource in template.get("Resources", {}).items():
        props = resource.get("Properties") or {}
        for key in ("CodeUri", "DefinitionUri"):
            value = props.get(key)
            if isinstance(value, str) and not value.startswith("s3://"):
                props[key] = f"s3://buildfarm-package/{logical_id}/{key}"


def main():
    request = json.load(sys.stdin)
    template = request["template"]
    point_local_uris_at_s3(template)
    translated = transform(template, request.get("parameters", {}), EmptyManagedPolicyLoader())
    json.dump(translated, sys.stdout)


if __name__ == "__main__":
    main()
