/**
 * The console's files by extension, as they are served: the publisher sets these on the objects
 * in the bucket (CloudFront hands them on), and the local console server sends the same.
 * A file of another kind is neither published nor served.
 */
export const CONSOLE_CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
};
