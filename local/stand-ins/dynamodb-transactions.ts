/**
 * TransactWriteItems, which dynalite lacks, for what this project's transactions contain: Puts
 * that may carry `attribute_not_exists(<key>)` and Updates without a condition. Anything else is
 * refused (ValidationException) rather than emulated loosely. Transactions run one at a time;
 * every Put's condition is checked first, so a cancelled transaction writes nothing, as on
 * DynamoDB (TransactionCanceledException with one reason per item, in order).
 */
type Item = Record<string, unknown>;
interface TransactItem {
  Put?: { TableName: string; Item: Item; ConditionExpression?: string } & Item;
  Update?: { TableName: string; Key: Item; ConditionExpression?: string } & Item;
  Delete?: unknown;
  ConditionCheck?: unknown;
}

export type DynamoCall = (action: string, input: Item) => Promise<{ status: number; body: string }>;

let queue: Promise<unknown> = Promise.resolve();

export function transactWrite(input: { TransactItems?: TransactItem[] }, call: DynamoCall) {
  const run = queue.then(() => transact(input, call));
  queue = run.catch(() => undefined);
  return run;
}

async function transact(input: { TransactItems?: TransactItem[] }, call: DynamoCall) {
  const items = input.TransactItems ?? [];
  if (items.length === 0 || items.length > 100) {
    return validation('Member must have length between 1 and 100');
  }
  const seen = new Set<string>();
  for (const item of items) {
    const op = item.Put ?? item.Update;
    if (!op || item.Delete || item.ConditionCheck) {
      return validation('local stand-in: only Put and Update are supported in transactions');
    }
    if (item.Update?.ConditionExpression) {
      return validation('local stand-in: an Update in a transaction may not have a condition');
    }
    const condition = item.Put?.ConditionExpression;
    if (condition && !/^attribute_not_exists\(\w+\)$/.test(condition)) {
      return validation('local stand-in: a Put may only require attribute_not_exists(key)');
    }
    const key = JSON.stringify([op.TableName, item.Update?.Key ?? keyOf(item.Put?.Item ?? {})]);
    if (seen.has(key)) {
      return validation('Transaction request cannot include multiple operations on one item');
    }
    seen.add(key);
  }
  // Conditions first: a Put on an existing item cancels the whole transaction.
  const reasons: Array<{ Code: string }> = [];
  for (const item of items) {
    if (!item.Put?.ConditionExpression) {
      reasons.push({ Code: 'None' });
      continue;
    }
    const field = /\((\w+)\)/.exec(item.Put.ConditionExpression)?.[1] as string;
    const key = { [field]: item.Put.Item[field], ...keyOf(item.Put.Item) };
    const got = await call('GetItem', { TableName: item.Put.TableName, Key: keyOf(item.Put.Item) });
    const exists = got.status === 200 && (JSON.parse(got.body) as { Item?: unknown }).Item;
    reasons.push({ Code: exists && key ? 'ConditionalCheckFailed' : 'None' });
  }
  if (reasons.some((reason) => reason.Code !== 'None')) {
    return {
      status: 400,
      body: JSON.stringify({
        __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
        message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
        CancellationReasons: reasons,
      }),
    };
  }
  for (const item of items) {
    const answer = item.Put
      ? await call('PutItem', item.Put)
      : await call('UpdateItem', item.Update as Item);
    if (answer.status !== 200) {
      // Not atomic past this point: make the failure loud, never silent.
      throw new Error(`local transaction failed part-way: ${answer.body}`);
    }
  }
  return { status: 200, body: '{}' };
}

/** The usage and OAuth tables' keys: `pk`, and `sk` where the table has one. */
function keyOf(item: Item): Item {
  return Object.fromEntries(
    Object.entries(item).filter(([name]) => name === 'pk' || name === 'sk'),
  );
}

function validation(message: string) {
  return {
    status: 400,
    body: JSON.stringify({ __type: 'com.amazon.coral.validate#ValidationException', message }),
  };
}
