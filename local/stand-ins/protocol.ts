/** What a stand-in answers: status, JSON (or text) body and headers. */
export interface Answer {
  readonly status: number;
  readonly body: string;
  readonly headers?: Record<string, string>;
}

/** An error in the AWS JSON protocols (1.0/1.1): `__type` names it for the SDK. */
export class AwsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export function json(
  body: unknown,
  status = 200,
  contentType = 'application/x-amz-json-1.1',
): Answer {
  return { status, body: JSON.stringify(body), headers: { 'content-type': contentType } };
}

export function jsonError(error: AwsError, contentType = 'application/x-amz-json-1.1'): Answer {
  return {
    status: error.status,
    body: JSON.stringify({ __type: error.type, message: error.message }),
    headers: { 'content-type': contentType, 'x-amzn-errortype': error.type },
  };
}

/** Seconds since the epoch, as the AWS JSON protocols send timestamps. */
export const epochSeconds = (ms = Date.now()) => Math.floor(ms / 1000);
