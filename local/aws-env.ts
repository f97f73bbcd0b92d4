/**
 * The standard AWS SDK environment that points the production code at local stand-ins.
 * The credentials are placeholders: the stand-ins accept any signature.
 */
export function localAwsEnv(endpoints: {
  /** The AWS stand-in, for every service it answers. */
  aws?: string;
  /** Overrides DynamoDB's endpoint (dynalite directly). */
  dynamodb?: string;
}): Record<string, string> {
  return {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIALOCALSTANDIN00000',
    AWS_SECRET_ACCESS_KEY: 'local-stand-in-secret',
    // Never look for credentials on an instance metadata endpoint.
    AWS_EC2_METADATA_DISABLED: 'true',
    ...(endpoints.aws
      ? Object.fromEntries(
          STAND_IN_SERVICES.map((service) => [`AWS_ENDPOINT_URL_${service}`, endpoints.aws]),
        )
      : {}),
    ...(endpoints.dynamodb ? { AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb } : {}),
  };
}

/** The services the AWS stand-in answers (AWS_ENDPOINT_URL_<SERVICE> names). */
export const STAND_IN_SERVICES = [
  'DYNAMODB',
  'STS',
  'KMS',
  'SQS',
  'API_GATEWAY',
  'COGNITO_IDENTITY_PROVIDER',
  'RESOURCE_GROUPS_TAGGING_API',
  'SECRETS_MANAGER',
  'CLOUDWATCH_LOGS',
  'SESV2',
] as const;
