import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * A DynamoDB document client. Endpoint and region come from the standard AWS SDK environment
 * (`AWS_REGION`, `AWS_ENDPOINT_URL_DYNAMODB`), which is how local runs point the same code
 * at dynalite: there is no local branch here.
 */
export function createDocumentClient(config: DynamoDBClientConfig = {}): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(config), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

/** DynamoDB's answer when a write's condition is false: the item exists or is in another state. */
export function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}
