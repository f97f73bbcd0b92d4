import { McpServer, ResourceNotFoundError, ResourceTemplate } from '@modelcontextprotocol/server';
import * as z from 'zod';
import { NotFoundError } from '../shared/platform/errors.js';
import { currentScope } from '../shared/platform/request-scope.js';
import { toolsFor } from './tools/index.js';
import { logToolError, type ToolDeps } from './tools/tool.js';

export const SERVER_INFO = { name: 'multi-tenant-mcp', version: '0.1.0' } as const;

/**
 * Builds the MCP server for one request, for one caller: only the tools the tenant's tier and
 * the user's role allow, each bound to that tenant's data. Nothing is shared between requests,
 * so there is no session state to leak from one tenant to another.
 */
export function buildMcpServer(deps: Omit<ToolDeps, 'tools'>): McpServer {
  const tools = toolsFor(deps.context);
  const toolDeps: ToolDeps = { ...deps, tools: tools.map((tool) => tool.name) };
  const server = new McpServer(SERVER_INFO, {
    // The lists never change during a request, so there is nothing to notify: with these off,
    // `subscriptions/listen` is acknowledged and closed at once instead of held open.
    capabilities: {
      tools: { listChanged: false },
      resources: { listChanged: false },
      prompts: { listChanged: false },
    },
    instructions:
      "Notes of the user's organisation. Every tool acts inside that organisation only.",
  });

  for (const tool of tools) tool.register(server, toolDeps);
  registerNoteResource(server, toolDeps);
  registerDraftPrompt(server);
  return server;
}

function registerNoteResource(server: McpServer, deps: ToolDeps): void {
  server.registerResource(
    'note',
    new ResourceTemplate('note://{id}', {
      list: async () => {
        currentScope()?.startWork();
        const page = await deps.notes.list({ limit: 50 });
        return {
          resources: page.items.map((note) => ({
            uri: `note://${note.id}`,
            name: note.title,
            mimeType: 'text/markdown',
          })),
        };
      },
    }),
    { title: 'Note', description: 'A note of your organisation', mimeType: 'text/markdown' },
    async (uri, variables) => {
      currentScope()?.startWork();
      const id = String(variables.id ?? '');
      try {
        const note = await deps.notes.get(id);
        return {
          contents: [
            { uri: uri.href, mimeType: 'text/markdown', text: `# ${note.title}\n\n${note.body}` },
          ],
        };
      } catch (error) {
        logToolError(deps.logger, 'resources/read', error);
        if (error instanceof NotFoundError) throw new ResourceNotFoundError(uri.href);
        throw new Error('Internal error.');
      }
    },
  );
}

const DraftNoteArgs = z.object({ topic: z.string().min(1).max(200) });

function registerDraftPrompt(server: McpServer): void {
  server.registerPrompt(
    'draft_note',
    {
      title: 'Draft a note',
      description: 'Asks the assistant to draft a note on a topic and save it.',
      argsSchema: DraftNoteArgs,
    },
    ({ topic }) => {
      currentScope()?.startWork();
      return {
        messages: [
          {
            role: 'user',
            content: {
              type: 'text',
              text: `Draft a short, well-structured note about: ${topic}. Show it to me, and when I agree, save it with the notes_create tool.`,
            },
          },
        ],
      };
    },
  );
}
