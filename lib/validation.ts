import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import {
  type IPolicyValidationContextBeta1,
  type IPolicyValidationPluginBeta1,
  type PolicyValidationPluginReportBeta1,
  Validations,
} from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/**
 * AWS's CloudFormation Guard rules (the Control Tower proactive controls) as a CDK policy
 * validation plugin. The plugin leaves each violation's severity unset, and once any finding
 * is acknowledged CDK then counts the whole report as passed; every violation is an error
 * here, so an unacknowledged finding always fails synth.
 */
class StrictCfnGuard implements IPolicyValidationPluginBeta1 {
  private readonly inner = new CfnGuardValidator({ maxBuffer: 64 * 1024 * 1024 });
  readonly name = this.inner.name;
  readonly version = this.inner.version;
  readonly ruleIds = this.inner.ruleIds;

  validate(context: IPolicyValidationContextBeta1): PolicyValidationPluginReportBeta1 {
    const report = this.inner.validate(context);
    return {
      ...report,
      violations: report.violations.map((v) => ({ ...v, severity: v.severity ?? 'error' })),
    };
  }
}

/**
 * The checks every synth runs: cdk-nag's AwsSolutions pack and AWS's CloudFormation Guard
 * rules. A finding fails synth unless the construct it names acknowledges it with a reason
 * (`Validations.of(construct).acknowledge`), next to the code the reason is about.
 */
export function addPolicyValidation(app: IConstruct): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new StrictCfnGuard());
}

/** The id under which a CloudFormation Guard rule's finding is acknowledged. */
export const guardRule = (rule: string) => `cdk-validator-cfnguard::${rule}`;
