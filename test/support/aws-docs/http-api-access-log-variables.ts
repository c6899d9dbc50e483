/**
 * The `$context` variables API Gateway documents for HTTP API access logs, from
 * "Customize HTTP API access logs"
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html;
 * read 2026-11 through the awsdocs/amazon-api-gateway-developer-guide source and the current page).
 * `{property}` stands for a name the API defines (JWT claims, authorizer context keys).
 * Data, not logic: extend it only from that page.
 */
export const HTTP_API_ACCESS_LOG_VARIABLES: readonly string[] = [
  'accountId',
  'apiId',
  'authorizer.claims.{property}',
  'authorizer.error',
  'authorizer.principalId',
  'authorizer.{property}',
  'awsEndpointRequestId',
  'awsEndpointRequestId2',
  'customDomain.basePathMatched',
  'dataProcessed',
  'domainName',
  'domainPrefix',
  'error.message',
  'error.messageString',
  'error.responseType',
  'extendedRequestId',
  'httpMethod',
  'identity.accountId',
  'identity.caller',
  'identity.cognitoAuthenticationProvider',
  'identity.cognitoAuthenticationType',
  'identity.cognitoIdentityId',
  'identity.cognitoIdentityPoolId',
  'identity.principalOrgId',
  'identity.clientCert.clientCertPem',
  'identity.clientCert.subjectDN',
  'identity.clientCert.issuerDN',
  'identity.clientCert.serialNumber',
  'identity.clientCert.validity.notBefore',
  'identity.clientCert.validity.notAfter',
  'identity.sourceIp',
  'identity.user',
  'identity.userAgent',
  'identity.userArn',
  'integration.error',
  'integration.integrationStatus',
  'integration.latency',
  'integration.requestId',
  'integration.status',
  'integrationErrorMessage',
  'integrationLatency',
  'integrationStatus',
  'path',
  'protocol',
  'requestId',
  'requestTime',
  'requestTimeEpoch',
  'responseLatency',
  'responseLength',
  'routeKey',
  'stage',
  'status',
];

/** The `$context.x` variables of an access-log format that the list above does not document. */
export function undocumentedVariables(format: string): string[] {
  const used = [...format.matchAll(/\$context\.([A-Za-z0-9_.-]+)/g)].map((m) => m[1]!);
  return used.filter((name) => !HTTP_API_ACCESS_LOG_VARIABLES.some((documented) => matches(documented, name)));
}

function matches(documented: string, name: string): boolean {
  if (!documented.includes('{property}')) return documented === name;
  const [prefix] = documented.split('{property}') as [string];
  return name.startsWith(prefix) && name.length > prefix.length && !name.slice(prefix.length).includes('.');
}
