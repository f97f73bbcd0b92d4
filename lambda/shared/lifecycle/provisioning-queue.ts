import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod';
import { type TenantId, TenantIdSchema } from '../tenancy/tenant.js';

export const ProvisioningMessageSchema = z.object({ tenantId: TenantIdSchema });
export type ProvisioningMessage = z.infer<typeof ProvisioningMessageSchema>;

/**
 * The FIFO queue that hands new tenants to the provisioner. One message group per tenant, so a
 * tenant is never provisioned by two workers at once; the tenant id is the deduplication id,
 * so a retried sign-up confirmation within five minutes enqueues nothing twice.
 */
export class ProvisioningQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  /**
   * Queues the tenant for provisioning. `attempt` distinguishes a deliberate new request (a
   * sweep, an operator's retry) from a duplicate of the first one, which FIFO drops.
   */
  async request(tenantId: TenantId, attempt?: string): Promise<void> {
    const message: ProvisioningMessage = { tenantId };
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(message),
        MessageGroupId: tenantId,
        MessageDeduplicationId: attempt ? `${tenantId}.${attempt}` : tenantId,
      }),
    );
  }
}
