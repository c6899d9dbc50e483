"""Create a CloudFormation stack in a running moto_server with boto3, and report what it made.

stdin: {"endpoint", "stackName", "template" (JSON), "parameters" {k: v}, "packageBucket", "packageKeys" [..]}
stdout: {"status", "reason", "events" [...], "resources" [{logicalId, physicalId, type, status}], "outputs" {..}}

The package bucket and keys stand in for what `sam package` uploads: moto's Lambda reads a
function's code from S3 when CloudFormation creates it.
"""
import io
import json
import sys
import time
import zipfile

import boto3


def client(service, endpoint):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def tiny_zip():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.js", "exports.handler = async () => ({});\n")
    return buffer.getvalue()


def main():
    request = json.load(sys.stdin)
    endpoint = request["endpoint"]
    s3 = client("s3", endpoint)
    s3.create_bucket(Bucket=request["packageBucket"])
    code = tiny_zip()
    for key in request["packageKeys"]:
        s3.put_object(Bucket=request["packageBucket"], Key=key, Body=code)

    cfn = client("cloudformation", endpoint)
    cfn.create_stack(
        StackName=request["stackName"],
        TemplateBody=json.dumps(request["template"]),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in request["parameters"].items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    deadline = time.time() + 120
    while True:
        stack = cfn.describe_stacks(StackName=request["stackName"])["Stacks"][0]
        if not stack["StackStatus"].endswith("IN_PROGRESS") or time.time() > deadline:
            break
        time.sleep(0.2)
    resources = cfn.list_stack_resources(StackName=request["stackName"])["StackResourceSummaries"]
    events = cfn.describe_stack_events(StackName=request["stackName"])["StackEvents"]
    json.dump(
        {
            "status": stack["StackStatus"],
            "reason": stack.get("StackStatusReason", ""),
            "events": [
                {"logicalId": e.get("LogicalResourceId"), "status": e.get("ResourceStatus"), "reason": e.get("ResourceStatusReason", "")}
                for e in events
                if "FAILED" in (e.get("ResourceStatus") or "")
            ],
            "resources": [
                {
                    "logicalId": r["LogicalResourceId"],
                    "physicalId": r.get("PhysicalResourceId", ""),
                    "type": r["ResourceType"],
                    "status": r["ResourceStatus"],
                }
                for r in resources
            ],
            "outputs": {o["OutputKey"]: o.get("OutputValue") for o in stack.get("Outputs", [])},
        },
        sys.stdout,
        default=str,
    )


if __name__ == "__main__":
    main()
