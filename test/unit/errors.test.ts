import { describe, expect, it } from 'vitest';
import {
  ForbiddenError,
  InternalError,
  NotFoundError,
  publicMessageOf,
} from '../../lambda/shared/platform/errors.js';

describe('public error messages', () => {
  it('shows the message of a client error', () => {
    expect(publicMessageOf(new ForbiddenError('Admins only.'))).toBe('Admins only.');
    expect(publicMessageOf(new NotFoundError())).toBe('Not found.');
  });

  it('hides the details of an internal error', () => {
    const error = new InternalError('registry item TENANT#globex malformed');

    expect(publicMessageOf(error)).toBe('Internal error.');
    expect(error.message).toContain('globex');
  });

  it('hides anything that is not an application error', () => {
    expect(publicMessageOf(new Error('connect ECONNREFUSED 10.0.0.1:443'))).toBe('Internal error.');
    expect(publicMessageOf('a string')).toBe('Internal error.');
  });
});
