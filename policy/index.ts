// The CrossGuard entry point: `pulumi preview --policy-pack policy --policy-pack-config
// policy/config/<stack>.json`. Constructing the PolicyPack starts the analyzer's gRPC server, so
// this file does nothing else; the policies live in rules/ and are listed in pack.ts.
import { PolicyPack } from "@pulumi/policy";
import { PACK_NAME, packArgs } from "./pack";

new PolicyPack(PACK_NAME, packArgs);
