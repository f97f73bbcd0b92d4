/**
 * The standard AWS SDK environment that points the production code at local stand-ins.
 * The credentials are placeholders: the stand-ins accept any signature.
 */
export function localAwsEnv(endpoints: {
  dynamodb?: string;
  sts?: string;
}): Record<string, string> {
  return {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIALOCALSTANDIN00000',
    AWS_SECRET_ACCESS_KEY: 'local-stand-in-secret',
    // Never look for credentials on an instance metadata endpoint.
    AWS_EC2_METADATA_DISABLED: 'true',
    ...(endpoints.dynamodb ? { AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb } : {}),
    ...(endpoints.sts ? { AWS_ENDPOINT_URL_STS: endpoints.sts } : {}),
  };
}
