/**
 * An IAM condition: only DynamoDB items whose every partition key starts with one of the
 * prefixes (and there is one: `ForAllValues` alone holds for a request with no key at all).
 */
export function leadingKeysLike(...prefixes: string[]) {
  return {
    'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': prefixes.map((p) => `${p}*`) },
    Null: { 'dynamodb:LeadingKeys': 'false' },
  };
}
