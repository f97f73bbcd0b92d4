import type { CloudWatchLogsEvent, Context } from 'aws-lambda';
import { lambdaContext } from './lambda-context.js';

/**
 * Invokes the metering function with the local CloudWatch Logs subscription's deliveries, as
 * Lambda invokes a subscribed function asynchronously: a delivery is acknowledged only when the
 * handler succeeded; otherwise the stand-in offers it again after its lease.
 */
export function startLogSubscriptionRunner(options: {
  standInUrl: string;
  handler: (event: CloudWatchLogsEvent, context: Context) => Promise<unknown>;
  onError: (error: unknown) => void;
  pollMs?: number;
}): { stop(): void } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const poll = async () => {
    try {
      for (;;) {
        const response = await fetch(`${options.standInUrl}/__stand-in/logs/next`);
        if (response.status !== 200) break;
        const delivery = (await response.json()) as { id: string; event: CloudWatchLogsEvent };
        try {
          await options.handler(delivery.event, lambdaContext('metering', 30_000));
          await fetch(
            `${options.standInUrl}/__stand-in/logs/ack/${encodeURIComponent(delivery.id)}`,
            { method: 'POST' },
          );
        } catch (error) {
          options.onError(error);
        }
      }
    } catch (error) {
      if (!stopped) options.onError(error);
    }
    if (!stopped) timer = setTimeout(poll, options.pollMs ?? 250);
  };
  timer = setTimeout(poll, 0);
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
