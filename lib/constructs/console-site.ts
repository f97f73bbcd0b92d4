import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CustomResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  Distribution,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  HttpVersion,
  PriceClass,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { Grant } from 'aws-cdk-lib/aws-iam';
import { BlockPublicAccess, Bucket, BucketEncryption, type CfnBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { CONSOLE_PUBLISHER_CONFIG } from '../../lambda/console-publisher/config.js';
import { type ConsoleConfig, consoleContentSecurityPolicy } from '../console-policy.js';
import { guardRule } from '../validation.js';
import { HandlerFunction } from './handler-function.js';

/** The console's static files. */
export const CONSOLE_FILES = fileURLToPath(new URL('../../console', import.meta.url));

export interface ConsoleSiteProps {
  /**
   * The API's origin (`https://<id>.execute-api.<region>.amazonaws.com`): the one origin the
   * console's scripts may call besides its own (the MCP endpoint and the façade's token endpoint).
   */
  readonly apiOrigin: string;
  /**
   * The bucket (emptied by the publisher when the stack is deleted) and the publisher's log group.
   * @default RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The tenant console: static files (`console/`) in a private bucket, served by CloudFront on an
 * origin of its own (the distribution's domain) through origin access control, with a strict
 * Content-Security-Policy. Nothing of it runs on a server: it signs in with the façade (OAuth
 * code flow with PKCE, as MCP clients do) and calls the MCP API with the tenant's token, which
 * it keeps in memory only.
 */
export class ConsoleSite extends Construct {
  readonly bucket: Bucket;
  readonly distribution: Distribution;
  /** `https://<distribution>.cloudfront.net`: the console's origin. */
  readonly origin: string;
  private readonly removalPolicy: RemovalPolicy;

  constructor(scope: Construct, id: string, props: ConsoleSiteProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE;
    this.removalPolicy = removalPolicy;
    this.bucket = new Bucket(this, 'Files', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      // Each deploy replaces the files; the versions it replaced go after a month.
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(30) }],
      // Kept when the stack is deleted, deleted when a first create fails: the publisher
      // empties it on its own deletion, which comes first, so CloudFormation can.
      removalPolicy,
    });
    const headers = new ResponseHeadersPolicy(this, 'Headers', {
      comment: 'Tenant console: CSP, HSTS, no framing, no referrer',
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          contentSecurityPolicy: consoleContentSecurityPolicy(props.apiOrigin),
          override: true,
        },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(365),
          includeSubdomains: true,
          override: true,
        },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
        contentTypeOptions: { override: true },
        referrerPolicy: { referrerPolicy: HeadersReferrerPolicy.NO_REFERRER, override: true },
      },
    });
    this.distribution = new Distribution(this, 'Distribution', {
      comment: 'Tenant console',
      defaultRootObject: 'index.html',
      httpVersion: HttpVersion.HTTP2_AND_3,
      priceClass: PriceClass.PRICE_CLASS_100,
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        responseHeadersPolicy: headers,
      },
    });
    this.origin = `https://${this.distribution.distributionDomainName}`;

    Validations.of(this.bucket).acknowledge(
      {
        id: 'AwsSolutions-S1',
        reason:
          'The bucket holds only the console’s static files, read through CloudFront alone; ' +
          'access logs of it would record nothing about tenants.',
      },
      {
        id: guardRule('s3_bucket_logging_enabled_check'),
        reason: 'Static files read only by CloudFront: see AwsSolutions-S1.',
      },
      {
        id: guardRule('s3_bucket_default_encryption_kms_check'),
        reason:
          'The files are the public console (HTML, CSS, JavaScript) every visitor downloads; ' +
          'S3-managed encryption suffices, and a KMS key would cost per request for no secret.',
      },
      {
        id: guardRule('s3_event_notifications_enabled_check'),
        reason: 'Only the deploy writes the bucket; nothing needs to hear of it.',
      },
      {
        id: guardRule('s3_bucket_object_lock_enabled_check'),
        reason: 'Each deploy replaces the console’s files; object lock would forbid that.',
      },
    );
    Validations.of(this.distribution).acknowledge(
      { id: 'AwsSolutions-CFR1', reason: 'Tenants sign in from anywhere; no country is refused.' },
      {
        id: 'AwsSolutions-CFR2',
        reason:
          'AWS WAF is left to the deployer (a web ACL costs per month and per rule): the ' +
          'distribution serves static files only; every call the console makes goes to the ' +
          'API, which authorizes and throttles each request.',
      },
      {
        id: 'AwsSolutions-CFR3',
        reason:
          'Static files only; the calls the console makes are logged by API Gateway and the ' +
          'functions, with the tenant, and appear in the audit trail.',
      },
      {
        id: 'AwsSolutions-CFR4',
        reason:
          'The default CloudFront certificate allows TLS 1.0 for viewers; a deployer with a ' +
          'domain of their own sets a certificate and TLSv1.2_2021 (README, "The tenant console").',
      },
      {
        id: guardRule('cloudfront_access_logs_enabled_check'),
        reason: 'Static files only: see AwsSolutions-CFR3.',
      },
      {
        id: guardRule('cloudfront_custom_ssl_certificate_check'),
        reason: 'The distribution’s own domain and certificate: see AwsSolutions-CFR4.',
      },
      {
        id: guardRule('cloudfront_security_policy_check'),
        reason: 'The default certificate’s security policy: see AwsSolutions-CFR4.',
      },
      {
        id: guardRule('cloudfront_sni_enabled_check'),
        reason: 'No custom certificate (see AwsSolutions-CFR4), so there is no SNI setting.',
      },
      {
        id: guardRule('cloudfront_origin_failover_enabled_check'),
        reason:
          'One bucket in one Region serves the console, as the API it calls lives in one ' +
          'Region; a failover origin would outlive nothing it needs.',
      },
    );
  }

  /**
   * Publishes the console's files and its configuration at deploy time, and clears CloudFront's
   * cache of them: a custom resource served by lambda/console-publisher (whose bundle carries
   * the files). A change of either publishes again. Separate from the constructor: the
   * configuration names the façade, which names this origin.
   */
  publish(config: ConsoleConfig): CustomResource {
    const publisher = new HandlerFunction(this, 'Publisher', {
      entry: 'console-publisher',
      config: CONSOLE_PUBLISHER_CONFIG,
      description: "Publishes the tenant console's files at deploy time",
      timeout: Duration.minutes(2),
      bundledFolder: CONSOLE_FILES,
      environment: {
        CONSOLE_BUCKET_NAME: this.bucket.bucketName,
        CONSOLE_DISTRIBUTION_ID: this.distribution.distributionId,
      },
      removalPolicy: this.removalPolicy,
    });
    Grant.addToPrincipal({
      grantee: publisher.fn,
      actions: ['s3:PutObject', 's3:DeleteObjectVersion'],
      resourceArns: [this.bucket.arnForObjects('*')],
    });
    Grant.addToPrincipal({
      grantee: publisher.fn,
      actions: ['s3:ListBucketVersions'],
      resourceArns: [this.bucket.bucketArn],
    });
    this.distribution.grantCreateInvalidation(publisher.fn);
    Validations.of(publisher.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.bucket.node.defaultChild as CfnBucket)}.Arn>/*]`,
      reason:
        "The publisher writes the console's files, whatever their names, into its bucket only, " +
        'and deletes them when its resource is deleted.',
    });
    return new CustomResource(this, 'Published', {
      serviceToken: publisher.fn.functionArn,
      resourceType: 'Custom::ConsoleFiles',
      // CloudFormation's own wait for an answer (the default is an hour): the publisher answers
      // within its two-minute timeout, or its invocation failed and nothing will.
      serviceTimeout: Duration.minutes(5),
      properties: {
        config: Stack.of(this).toJsonString({ ...config, redirectUri: `${this.origin}/` }),
        // The files' digest: a change of the console publishes it again.
        files: digestOf(CONSOLE_FILES),
      },
    });
  }
}

/** A digest of every file under a folder, names and contents. */
function digestOf(folder: string): string {
  const hash = createHash('sha256');
  for (const name of readdirSync(folder, { recursive: true, encoding: 'utf8' }).sort()) {
    const file = join(folder, name);
    if (statSync(file).isFile()) hash.update(name).update(readFileSync(file));
  }
  return hash.digest('hex');
}
