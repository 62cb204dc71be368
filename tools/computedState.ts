// What providers report once `pulumi up` has created a resource, for mock runs as `up`: the
// attributes programs read back from one resource into another (database endpoints, ARNs,
// provider-generated names, generated passwords and numbers). The mock provider merges these over
// the inputs; as `pulumi preview` the runner passes none, so they stay unknown as in the engine.
// One table for the tests, the offline policy runner (`--up`) and the manifest renderer.
import { MOCK_ACCOUNT } from "./mockInvokes";

/** A generated password's (or string's) mock value is this prefix plus the resource name, so tests can follow where it flows. */
export const MOCK_RANDOM_PASSWORD_PREFIX = "mock-random-password-";

/** Region of the mock endpoints and ARNs. */
const REGION = "eu-west-1";

/** Resource types whose physical name the provider generates when the program gives none. */
const AUTONAMED = new Set(["aws:rds/parameterGroup:ParameterGroup", "aws:iam/role:Role"]);

export function computedAtUp(type: string, name: string, inputs: Record<string, any>): Record<string, any> {
    switch (type) {
        case "aws:rds/instance:Instance": {
            const port = inputs.port ?? 3306;
            const address = `${name}.abc123.${REGION}.rds.amazonaws.com`;
            return { address, endpoint: `${address}:${port}`, port, arn: `arn:aws:rds:${REGION}:${MOCK_ACCOUNT}:db:${name}`, resourceId: `db-${name.toUpperCase()}` };
        }
        case "aws:ec2/subnet:Subnet":
            return { cidrBlock: inputs.cidrBlock, arn: mockArn(type, name) };
        case "random:index/randomPassword:RandomPassword":
        case "random:index/randomString:RandomString":
            // A program that hashes or formats a generated value must get one (else the run hangs).
            return { result: `${MOCK_RANDOM_PASSWORD_PREFIX}${name}` };
        case "random:index/randomInteger:RandomInteger":
            // Known once created; its lowest allowed value stands in.
            return { result: inputs.min };
        default:
            if (!type.startsWith("aws:")) {
                return {};
            }
            return AUTONAMED.has(type) ? { name: inputs.name ?? `${name}-0123abcd`, arn: mockArn(type, name) } : { arn: mockArn(type, name) };
    }
}

function mockArn(type: string, name: string): string {
    return `arn:aws:mock:::${type}/${name}`;
}
