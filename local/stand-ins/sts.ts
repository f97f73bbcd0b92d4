import { randomUUID } from 'node:crypto';
import type { SessionIssuer } from './sessions.js';

/**
 * STS `AssumeRole` over the AWS query protocol, as the AWS SDK sends it. Validates what STS
 * validates (role ARN, session name, duration, tags) and answers errors the way STS does.
 */
export function handleStsRequest(
  form: URLSearchParams,
  issuer: SessionIssuer,
): { status: number; body: string } {
  const action = form.get('Action');
  if (action !== 'AssumeRole') {
    return stsError(
      400,
      'InvalidAction',
      `The action ${action} is not valid for this web service.`,
    );
  }
  const roleArn = form.get('RoleArn') ?? '';
  const sessionName = form.get('RoleSessionName') ?? '';
  const duration = Number(form.get('DurationSeconds') ?? '3600');
  const tags: Record<string, string> = {};
  for (let i = 1; form.has(`Tags.member.${i}.Key`); i++) {
    tags[form.get(`Tags.member.${i}.Key`) as string] = form.get(`Tags.member.${i}.Value`) ?? '';
  }

  const problems = [
    !/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/.test(roleArn) && 'roleArn',
    !/^[\w+=,.@-]{2,64}$/.test(sessionName) && 'roleSessionName',
    !(Number.isInteger(duration) && duration >= 900 && duration <= 43_200) && 'durationSeconds',
    Object.entries(tags).some(
      ([key, value]) =>
        !/^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u.test(key) ||
        !/^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u.test(value),
    ) && 'tags',
  ].filter(Boolean);
  if (problems.length > 0) {
    return stsError(400, 'ValidationError', `1 validation error detected: ${problems.join(', ')}`);
  }

  const { session, token, secret } = issuer.issue({
    roleArn,
    sessionName,
    tags,
    expiresAt: Date.now() + duration * 1000,
  });
  const [, account, roleName] =
    /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:.*\/)?(.+)$/.exec(roleArn) ?? [];
  return {
    status: 200,
    body: `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <Credentials>
      <AccessKeyId>${session.accessKeyId}</AccessKeyId>
      <SecretAccessKey>${secret}</SecretAccessKey>
      <SessionToken>${token}</SessionToken>
      <Expiration>${new Date(session.expiresAt).toISOString()}</Expiration>
    </Credentials>
    <AssumedRoleUser>
      <AssumedRoleId>AROALOCALSTANDIN:${sessionName}</AssumedRoleId>
      <Arn>arn:aws:sts::${account}:assumed-role/${roleName}/${sessionName}</Arn>
    </AssumedRoleUser>
    <PackedPolicySize>${Object.keys(tags).length}</PackedPolicySize>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>
</AssumeRoleResponse>`,
  };
}

function stsError(status: number, code: string, message: string) {
  return {
    status,
    body: `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error>
  <RequestId>${randomUUID()}</RequestId>
</ErrorResponse>`,
  };
}
