// A static website: an S3 bucket behind a CloudFront distribution with an origin access control,
// as the static-website examples build it. The exported URL is checked inside an apply against the
// configured domain (a stack without `static-site:domain` fails there, in a stack output). Written
// for the offline runner's test corpus (no Kubernetes, no database).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

const config = new pulumi.Config();

const bucket = new aws.s3.Bucket("site", {});
new aws.s3.BucketPublicAccessBlock("site", {
    bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true,
});
new aws.s3.BucketObject("index", { bucket: bucket.id, key: "index.html", content: "<h1>hello</h1>", contentType: "text/html" });

const oac = new aws.cloudfront.OriginAccessControl("site", {
    originAccessControlOriginType: "s3", signingBehavior: "always", signingProtocol: "sigv4",
});
const cdn = new aws.cloudfront.Distribution("site", {
    enabled: true,
    defaultRootObject: "index.html",
    origins: [{ originId: "s3", domainName: bucket.bucketRegionalDomainName, originAccessControlId: oac.id }],
    defaultCacheBehavior: {
        targetOriginId: "s3",
        viewerProtocolPolicy: "redirect-to-https",
        allowedMethods: ["GET", "HEAD"],
        cachedMethods: ["GET", "HEAD"],
        forwardedValues: { queryString: false, cookies: { forward: "none" } },
    },
    restrictions: { geoRestriction: { restrictionType: "none" } },
    viewerCertificate: { cloudfrontDefaultCertificate: true },
});

export const cdnHost = cdn.domainName.apply((host) => host.toLowerCase());
export const siteUrl = pulumi.output(config.get("domain")).apply((domain) => {
    if (!domain) {
        throw new Error("static-site:domain is not set: the site has no public name");
    }
    return `https://${domain}`;
});
