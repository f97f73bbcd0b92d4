export { preTokenV2Event } from '../../local/events.js';
export { lambdaContext } from '../../local/lambda-context.js';
