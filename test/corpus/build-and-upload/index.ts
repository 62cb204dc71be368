// Builds a release artifact with a local command (@pulumi/command, installed by the program itself,
// not by this repository) and uploads its checksum next to it in an encrypted bucket. Written for
// the offline runner's test corpus.
import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";

const build = new command.local.Command("build", { create: "tar czf site.tgz public && sha256sum site.tgz" });

const artifacts = new aws.s3.Bucket("artifacts", {});
new aws.s3.BucketServerSideEncryptionConfiguration("artifacts", {
    bucket: artifacts.id,
    rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" } }],
});
new aws.s3.BucketObject("checksum", { bucket: artifacts.id, key: "site.tgz.sha256", content: build.stdout });

export const bucket = artifacts.bucket;
