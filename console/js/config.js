/**
 * @typedef {object} ConsoleConfig
 * @property {string} mcpUrl the MCP endpoint (also the `resource` tokens are bound to)
 * @property {string} issuer the authorization server's issuer, checked against `iss` (RFC 9207)
 * @property {string} authorizationEndpoint
 * @property {string} tokenEndpoint
 * @property {string} clientId
 * @property {string} redirectUri
 * @property {string} scope
 */

const REQUIRED = ['mcpUrl', 'issuer', 'authorizationEndpoint', 'tokenEndpoint', 'clientId'];

/**
 * Reads `./config.json` (same origin), as the deploy uploads it.
 * @returns {Promise<ConsoleConfig>}
 */
export async function loadConfig() {
  const response = await fetch('./config.json', { cache: 'no-store' });
  if (!response.ok) throw new Error(`config.json answered ${response.status}`);
  const config = await response.json();
  for (const key of REQUIRED) {
    if (typeof config[key] !== 'string') throw new Error(`config.json has no ${key}`);
  }
  return {
    ...config,
    redirectUri: config.redirectUri ?? `${location.origin}/`,
    scope: config.scope ?? 'mcp/invoke',
  };
}
