// The resource type tokens tests find resources by, in one table: the pack's own
// (policy/rules/k8s, policy/rules/database) plus the kinds only this program creates.
import { RDS_INSTANCE } from "../../policy/rules/database";
import { TYPES as PACK_TYPES } from "../../policy/rules/k8s";

export const TYPES = {
    ...PACK_TYPES,
    rds: RDS_INSTANCE,
    serviceAccount: "kubernetes:core/v1:ServiceAccount",
    secret: "kubernetes:core/v1:Secret",
    configMap: "kubernetes:core/v1:ConfigMap",
    priorityClass: "kubernetes:scheduling.k8s.io/v1:PriorityClass",
    serviceMonitor: "kubernetes:monitoring.coreos.com/v1:ServiceMonitor",
    randomPassword: "random:index/randomPassword:RandomPassword",
    kmsKey: "aws:kms/key:Key",
    securityGroupIngressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    metricAlarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
    snsTopic: "aws:sns/topic:Topic",
    backupsReplication: "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication",
    secretsManagerSecret: "aws:secretsmanager/secret:Secret",
} as const;
