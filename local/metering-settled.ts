/**
 * Waits until every line the gateway has printed so far has been delivered to the metering
 * function and acknowledged: the local CloudWatch Logs subscription (the AWS stand-in at
 * `awsUrl`) has nothing pending. For tests and the bench, which read metered usage.
 */
export async function meteringSettled(awsUrl: string, timeoutMs = 15_000): Promise<void> {
  // The harness ships the gateway's lines to the stand-in every few milliseconds.
  await new Promise((resolve) => setTimeout(resolve, 150));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const logs = (await (await fetch(`${awsUrl}/__stand-in/logs/stats`)).json()) as {
      pendingRecords: number;
      inFlightDeliveries: number;
    };
    if (logs.pendingRecords === 0 && logs.inFlightDeliveries === 0) return;
    if (Date.now() > deadline) throw new Error(`metering did not settle: ${JSON.stringify(logs)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
