import * as z from 'zod';

/**
 * What lambda/protected-resource reads from its environment, checked at load (readConfig). The CDK
 * construct that deploys it takes its variables by these names (lib/constructs/handler-function.ts)
 * and synth fails when one without a default is missing.
 */
export const PROTECTED_RESOURCE_CONFIG = {
  API_BASE_URL: z.url({ protocol: /^https?$/ }),
  REQUIRED_SCOPE: z.string().min(1),
} satisfies z.ZodRawShape;
