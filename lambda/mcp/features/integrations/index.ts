import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { checkDestination, postOutbound } from '../../../shared/outbound/outbound.js';
import {
  SIGNATURE_HEADER,
  signWebhook,
  TIMESTAMP_HEADER,
} from '../../../shared/outbound/webhook-signature.js';
import { ValidationError } from '../../../shared/platform/errors.js';
import { defineTool, type Feature } from '../feature.js';
import { NOTES, NoteIdSchema } from '../notes/notes.js';

/** The tenant secret holding the webhook integration (URL and signing secret). */
const WEBHOOK_SECRET = 'webhook';
const WebhookConfigSchema = z.object({ url: z.url(), signingSecret: z.string().min(16) });

const integrationsSet = defineTool({
  name: 'integrations_set',
  minTier: 'standard',
  requiredRole: 'admin',
  title: 'Set the webhook integration',
  description:
    "Stores your organisation's webhook URL and signing secret (kept in Secrets Manager, never shown again). Admins only.",
  inputSchema: z.object({
    webhookUrl: z.url().max(2048).describe('https URL that receives published notes'),
    signingSecret: z.string().min(16).max(256).describe('Secret used to sign deliveries'),
  }),
  outputSchema: z.object({ configured: z.literal(true), webhookHost: z.string() }),
  annotations: {
    readOnlyHint: false,
    destructiveHint: false,
    idempotentHint: true,
    openWorldHint: false,
  },
  run: async ({ webhookUrl, signingSecret }, scope) => {
    const url = new URL(webhookUrl);
    // Refuse a destination now rather than at the first delivery.
    await checkDestination(url, scope.outbound);
    await scope.secrets.put(WEBHOOK_SECRET, JSON.stringify({ url: url.href, signingSecret }));
    return { configured: true as const, webhookHost: url.host };
  },
});

const notesPublish = defineTool({
  name: 'notes_publish',
  minTier: 'standard',
  title: 'Publish a note',
  description:
    "Sends a note to your organisation's webhook, signed with its secret and carrying the platform's credential for that webhook.",
  inputSchema: z.object({ id: NoteIdSchema.describe('The note id') }),
  outputSchema: z.object({ published: z.literal(true), status: z.number().int() }),
  annotations: {
    readOnlyHint: false,
    destructiveHint: false,
    idempotentHint: false,
    openWorldHint: true,
  },
  run: async ({ id }, scope) => {
    const stored = await scope.secrets.get(WEBHOOK_SECRET);
    if (!stored)
      throw new ValidationError(
        'No webhook is configured: an admin sets one with integrations_set.',
      );
    const config = WebhookConfigSchema.parse(JSON.parse(stored));
    const note = await scope.collection(NOTES).get(id);
    // The delivery id is signed with the rest: receivers can drop a delivery seen before.
    const body = JSON.stringify({ event: 'note.published', deliveryId: randomUUID(), note });
    const timestamp = Math.floor(Date.now() / 1000);
    const response = await postOutbound(
      config.url,
      body,
      {
        'content-type': 'application/json',
        [TIMESTAMP_HEADER]: String(timestamp),
        [SIGNATURE_HEADER]: signWebhook(config.signingSecret, timestamp, body),
        // Minted for this destination: its audience is the webhook's origin, nothing else.
        authorization: `Bearer ${await scope.destinationCredential(new URL(config.url), body)}`,
      },
      scope.outbound,
    );
    if (response.status < 200 || response.status >= 300) {
      throw new ValidationError(`The webhook answered ${response.status}.`);
    }
    return { published: true as const, status: response.status };
  },
});

/** The tenant's webhook: set it (admins), publish notes to it. */
export const integrations: Feature = {
  name: 'integrations',
  tools: [integrationsSet, notesPublish],
};
