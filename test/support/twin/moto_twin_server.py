"""moto_server for the build farm's twin tier, with one gap in moto 5.2.1's Step Functions engine filled.

moto's engine is a port of LocalStack's. In the port, StateTaskService._normalise_parameters and
_normalise_response are empty, while LocalStack's convert a task's Parameters to the service's boto
member names with the API model (RunTask's `Cluster` becomes `cluster`) and the response back (the
helpers that do it, _to_boto_request and _from_boto_response, are in moto's copy, unused). Without
them botocore fails every `arn:aws:states:::ecs:*` task with KeyError 'Cluster' (States.Runtime)
before any request is sent, although AWS documents PascalCase parameters for the integration:
https://docs.aws.amazon.com/step-functions/latest/dg/connect-ecs.html
This launcher puts LocalStack's two methods back, then runs moto.server as `moto_server` would.

Two more differences from AWS, in the ECS integration only:
- its RunTask parameter allow-list predates capacity providers and silently drops
  `CapacityProviderStrategy`, which AWS accepts in `ecs:runTask.sync` (the CDK emits it:
  https://github.com/aws/aws-cdk/pull/35465, https://github.com/aws/aws-cdk/issues/20013);
- it returns the task's timestamps as ISO text (botocore datetimes through its JSON encoder),
  where the integration's output carries epoch milliseconds, the numbers the report bills from.
The context object's `$$.Execution.StartTime` is Python's isoformat ("...T20:07:14.627774+00:00");
AWS gives ISO 8601 in UTC with milliseconds ("2019-03-26T20:14:13.192Z"):
https://docs.aws.amazon.com/step-functions/latest/dg/input-output-contextobject.html

And one defect outside the engine: StartExecution deep-copies the state machine, which refers to
its backend, so the copy reaches every earlier execution's live worker and fails ("TypeError:
cannot pickle '_thread.RLock' object"): after one execution, no other can start. The state
machine is copied here without its backend and its list of executions, which the copy only needs
to share (StartExecution appends the new execution to the original's list).
Nothing else of moto changes; see test/support/twin/README.md.
"""

import copy
import datetime
import sys

from botocore import xform_name
from botocore.session import Session

import moto
from moto.stepfunctions.models import StateMachine
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_ecs,
)

from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (
    StateTaskService,
)

# Written against moto 5.2.1's internals (.ci/run pins it). Another version may have fixed or moved
# them: an import error stops the server, and the tier then fails loudly rather than pass untested.
if moto.__version__ != "5.2.1":
    print(f"moto_twin_server: written for moto 5.2.1, running {moto.__version__}", file=sys.stderr)

_session = Session()
_service_models = {}


def _operation_model(task, boto_service_name=None, service_action_name=None):
    service = task._get_boto_service_name(boto_service_name)
    action = task._get_boto_service_action(service_action_name)  # snake_case, e.g. run_task
    model = _service_models.get(service)
    if model is None:
        model = _service_models[service] = _session.get_service_model(service)
    for name in model.operation_names:
        if xform_name(name) == action:
            return model.operation_model(name)
    return None


def _epoch_millis(value):
    if isinstance(value, datetime.datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, dict):
        return {key: _epoch_millis(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_epoch_millis(inner) for inner in value]
    return value


def _normalise_parameters(self, parameters, boto_service_name=None, service_action_name=None):
    operation = _operation_model(self, boto_service_name, service_action_name)
    if operation is not None and operation.input_shape is not None:
        self._to_boto_request(parameters, operation.input_shape)


def _normalise_response(self, response, boto_service_name=None, service_action_name=None):
    operation = _operation_model(self, boto_service_name, service_action_name)
    if operation is not None and operation.output_shape is not None:
        self._from_boto_response(response, operation.output_shape)
    if self._get_boto_service_name(boto_service_name) == "ecs" and isinstance(response, dict):
        response.update(_epoch_millis(response))


_SHARED_BY_CLONES = {"backend", "executions"}


def _state_machine_deepcopy(self, memo):
    clone = StateMachine.__new__(StateMachine)
    memo[id(self)] = clone
    for key, value in vars(self).items():
        setattr(clone, key, value if key in _SHARED_BY_CLONES else copy.deepcopy(value, memo))
    return clone


StateMachine.__deepcopy__ = _state_machine_deepcopy

_engine_environment = ExecutionWorker._get_evaluation_environment


def _environment_with_aws_start_time(self):
    env = _engine_environment(self)
    execution = env.states.context_object.context_object_data["Execution"]
    start = execution["StartTime"]
    if isinstance(start, datetime.datetime):
        utc = start.astimezone(datetime.timezone.utc)
        execution["StartTime"] = utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
    return env


ExecutionWorker._get_evaluation_environment = _environment_with_aws_start_time
StateTaskService._normalise_parameters = _normalise_parameters
StateTaskService._normalise_response = _normalise_response
state_task_service_ecs._SUPPORTED_API_PARAM_BINDINGS["runtask"].add("CapacityProviderStrategy")

if __name__ == "__main__":
    from moto.server import main

    sys.exit(main(sys.argv[1:]))
