package rules_test

import (
	"testing"

	"github.com/kdaguard/kdaguard/shared/model"
	"github.com/kdaguard/kdaguard/shared/rules"
)

func TestDP1StateKey(t *testing.T) {
	runTable(t, "KDA.DP.1", []ruleCase{
		{name: "customer managed key", want: rules.Compliant, contains: strs(keyARN)},
		{name: "AWS owned key", want: rules.NonCompliant, failed: strs("customer-managed-key"),
			mutate: func(a *model.Application) {
				a.Encryption = model.Known(model.Encryption{KeyType: model.KeyTypeAWSOwned})
			}, contains: strs("CUSTOMER_MANAGED_KEY")},
		{name: "no encryption configuration (AWS owned by default)", want: rules.NonCompliant, failed: strs("customer-managed-key"),
			mutate: func(a *model.Application) { a.Encryption = model.Known(model.Encryption{}) }},
		{name: "encryption unknown", want: rules.Unknown,
			mutate: func(a *model.Application) {
				a.Encryption = model.Unknown[model.Encryption]("template: ApplicationEncryptionConfiguration is Fn::If")
			}, contains: strs("Fn::If")},
		{name: "SQL application", want: rules.NotApplicable, mutate: sqlApp},
		{name: "SQL application with unknown encryption", want: rules.NotApplicable, mutate: func(a *model.Application) {
			sqlApp(a)
			a.Encryption = model.Unknown[model.Encryption]("")
		}},
	})
}

func TestDP2KeyHealth(t *testing.T) {
	rotationFix := fixWant{Condition: "rotation", Target: keyARN, Args: map[string]string{"KeyId": keyARN}}
	runTable(t, "KDA.DP.2", []ruleCase{
		{name: "healthy key", want: rules.Compliant},
		{name: "AWS owned key", want: rules.NotApplicable, contains: strs("KDA.DP.1"),
			mutate: func(a *model.Application) {
				a.Encryption = model.Known(model.Encryption{KeyType: model.KeyTypeAWSOwned})
				a.Related.Key = model.Unknown[model.Key]("no customer managed key")
			}},
		{name: "encryption unknown", want: rules.Unknown,
			mutate: func(a *model.Application) { a.Encryption = model.Unknown[model.Encryption]("not read") }},
		{name: "key unknown", want: rules.Unknown, contains: strs("AccessDeniedException"),
			mutate: func(a *model.Application) {
				a.Related.Key = model.Unknown[model.Key]("kms:DescribeKey: AccessDeniedException")
			}},
		{name: "rotation off: one fix", want: rules.NonCompliant, failed: strs("rotation"), fixes: []fixWant{rotationFix},
			mutate: func(a *model.Application) { setKey(a, func(k *model.Key) { k.Rotation = model.Known(false) }) }},
		{name: "rotation off, key known by id only: fix targets the id", want: rules.NonCompliant, failed: strs("rotation"),
			fixes: []fixWant{{Condition: "rotation", Target: keyID, Args: map[string]string{"KeyId": keyID}}},
			mutate: func(a *model.Application) {
				setKey(a, func(k *model.Key) { k.ARN, k.Rotation = "", model.Known(false) })
			}},
		{name: "key policy lacks the infrastructure principal: no fix", want: rules.NonCompliant, failed: strs("key-policy"),
			contains: strs("infrastructure.kinesisanalytics.amazonaws.com"),
			mutate: func(a *model.Application) {
				setKey(a, func(k *model.Key) {
					k.Policy = policy(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"kinesisanalytics.amazonaws.com"},"Action":["kms:Decrypt","kms:GenerateDataKey*","kms:DescribeKey"],"Resource":"*"}]}`)
				})
			}},
		{name: "default key policy: both principals missing", want: rules.NonCompliant, failed: strs("key-policy", "key-policy"),
			mutate: func(a *model.Application) { setKey(a, func(k *model.Key) { k.Policy = policy(keyPolicyDefault) }) }},
		{name: "service principals only in a Deny statement", want: rules.NonCompliant, failed: strs("key-policy", "key-policy"),
			mutate: func(a *model.Application) {
				setKey(a, func(k *model.Key) {
					k.Policy = policy(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"Service":["kinesisanalytics.amazonaws.com","infrastructure.kinesisanalytics.amazonaws.com"]},"Action":"kms:*","Resource":"*"}]}`)
				})
			}},
		{name: "principal * with kms:* allows both", want: rules.Compliant,
			mutate: func(a *model.Application) {
				setKey(a, func(k *model.Key) {
					k.Policy = policy(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"kms:CallerAccount":"123456789012"}}}}`)
				})
			}},
		{name: "rotation off and key policy wrong: one fix, policy stays failed", want: rules.NonCompliant,
			failed: strs("rotation", "key-policy", "key-policy"), fixes: []fixWant{rotationFix},
			mutate: func(a *model.Application) {
				setKey(a, func(k *model.Key) { k.Rotation, k.Policy = model.Known(false), policy(keyPolicyDefault) })
			}},
		{name: "disabled asymmetric key", want: rules.NonCompliant, failed: strs("enabled", "symmetric"),
			contains: strs("Disabled", "RSA_2048"),
			mutate: func(a *model.Application) {
				setKey(a, func(k *model.Key) { k.State, k.Spec = "Disabled", "RSA_2048" })
			}},
		// KMS refuses EnableKeyRotation on a key that is not Enabled or not
		// symmetric: the rotation is reported, with no fix.
		{name: "disabled key, rotation off: no fix", want: rules.NonCompliant, failed: strs("enabled", "rotation"),
			contains: strs("Disabled", "rotation"),
			mutate: func(a *model.Application) {
				setKey(a, func(k *model.Key) { k.State, k.Rotation = "Disabled", model.Known(false) })
			}},
		{name: "pending deletion, rotation off: no fix", want: rules.NonCompliant, failed: strs("enabled", "rotation"),
			mutate: func(a *model.Application) {
				setKey(a, func(k *model.Key) { k.State, k.Rotation = "PendingDeletion", model.Known(false) })
			}},
		{name: "asymmetric key, rotation off: no fix", want: rules.NonCompliant, failed: strs("symmetric", "rotation"),
			mutate: func(a *model.Application) {
				setKey(a, func(k *model.Key) { k.Spec, k.Rotation = "RSA_2048", model.Known(false) })
			}},
		{name: "state and spec not reported: unknown", want: rules.Unknown, contains: strs("key state", "key spec"),
			mutate: func(a *model.Application) { setKey(a, func(k *model.Key) { k.State, k.Spec = "", "" }) }},
		{name: "state not reported, rotation off: no fix", want: rules.NonCompliant, failed: strs("rotation"),
			contains: strs("could not verify key state"),
			mutate: func(a *model.Application) {
				setKey(a, func(k *model.Key) { k.State, k.Rotation = "", model.Known(false) })
			}},
		// The service needs kms:Decrypt and kms:GenerateDataKey, not only DescribeKey.
		{name: "key policy grants both principals only DescribeKey", want: rules.NonCompliant, failed: strs("key-policy", "key-policy"),
			contains: strs("kms:Decrypt", "kms:GenerateDataKey"),
			mutate: func(a *model.Application) {
				setKey(a, func(k *model.Key) {
					k.Policy = policy(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["kinesisanalytics.amazonaws.com","infrastructure.kinesisanalytics.amazonaws.com"]},"Action":"kms:DescribeKey","Resource":"*"}]}`)
				})
			}},
		{name: "key policy grants Decrypt but not GenerateDataKey", want: rules.NonCompliant, failed: strs("key-policy", "key-policy"),
			contains: strs("kms:GenerateDataKey"), absent: strs("kms:Decrypt"),
			mutate: func(a *model.Application) {
				setKey(a, func(k *model.Key) {
					k.Policy = policy(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["kinesisanalytics.amazonaws.com","infrastructure.kinesisanalytics.amazonaws.com"]},"Action":["kms:Decrypt","kms:DescribeKey"],"Resource":"*"}]}`)
				})
			}},
		{name: "actions split over statements, wildcards", want: rules.Compliant,
			mutate: func(a *model.Application) {
				setKey(a, func(k *model.Key) {
					k.Policy = policy(`{"Version":"2012-10-17","Statement":[
						{"Effect":"Allow","Principal":{"Service":["kinesisanalytics.amazonaws.com","infrastructure.kinesisanalytics.amazonaws.com"]},"Action":"kms:Decrypt","Resource":"*"},
						{"Effect":"Allow","Principal":{"Service":"kinesisanalytics.amazonaws.com"},"Action":"kms:GenerateDataKey*","Resource":"*"},
						{"Effect":"Allow","Principal":{"Service":"infrastructure.kinesisanalytics.amazonaws.com"},"Action":"*","Resource":"*"}]}`)
				})
			}},
		{name: "an unconditional Deny takes the action away", want: rules.NonCompliant, failed: strs("key-policy"),
			contains: strs("infrastructure.kinesisanalytics.amazonaws.com", "kms:Decrypt"),
			mutate: func(a *model.Application) {
				setKey(a, func(k *model.Key) {
					k.Policy = policy(`{"Version":"2012-10-17","Statement":[
						{"Effect":"Allow","Principal":{"Service":["kinesisanalytics.amazonaws.com","infrastructure.kinesisanalytics.amazonaws.com"]},"Action":["kms:Decrypt","kms:GenerateDataKey"],"Resource":"*"},
						{"Effect":"Deny","Principal":{"Service":"infrastructure.kinesisanalytics.amazonaws.com"},"Action":"kms:Decrypt","Resource":"*"}]}`)
				})
			}},
		{name: "pending deletion", want: rules.NonCompliant, failed: strs("enabled"), contains: strs("PendingDeletion"),
			mutate: func(a *model.Application) { setKey(a, func(k *model.Key) { k.State = "PendingDeletion" }) }},
		{name: "rotation unknown", want: rules.Unknown, contains: strs("GetKeyRotationStatus"),
			mutate: func(a *model.Application) {
				setKey(a, func(k *model.Key) {
					k.Rotation = model.Unknown[bool]("kms:GetKeyRotationStatus: AccessDeniedException")
				})
			}},
		{name: "key policy unknown", want: rules.Unknown,
			mutate: func(a *model.Application) {
				setKey(a, func(k *model.Key) {
					k.Policy = model.Unknown[model.PolicyDocument]("kms:GetKeyPolicy: AccessDeniedException")
				})
			}},
		{name: "rotation off and policy unknown: fix, and the unknown named", want: rules.NonCompliant,
			failed: strs("rotation"), fixes: []fixWant{rotationFix}, contains: strs("could not verify key policy"),
			mutate: func(a *model.Application) {
				setKey(a, func(k *model.Key) {
					k.Rotation, k.Policy = model.Known(false), model.Unknown[model.PolicyDocument]("kms:GetKeyPolicy: AccessDeniedException")
				})
			}},
	})
}

func TestDP3Streams(t *testing.T) {
	unencrypted := func(arn, name string) model.Fact[model.Stream] {
		return model.Known(model.Stream{ARN: arn, Name: name, EncryptionType: "NONE"})
	}
	fixFor := func(arn, name, key string) fixWant {
		return fixWant{Condition: "encryption:" + arn, Target: arn,
			Args: map[string]string{"StreamARN": arn, "StreamName": name, "EncryptionType": "KMS", "KeyId": key}}
	}
	onlyRole := func(a *model.Application) { a.Properties = model.Known([]model.PropertyGroup{}) }
	runTable(t, "KDA.DP.3", []ruleCase{
		{name: "both streams encrypted", want: rules.Compliant},
		{name: "input stream unencrypted: one fix with the default key", want: rules.NonCompliant,
			failed: strs("encryption:" + inStream), fixes: []fixWant{fixFor(inStream, "orders", "alias/aws/kinesis")},
			contains: strs("orders"),
			mutate:   func(a *model.Application) { a.Related.Streams[inStream] = unencrypted(inStream, "orders") }},
		{name: "both unencrypted, customer key parameter", want: rules.NonCompliant, anyOrder: true,
			params: map[string]string{"streamKeyId": "arn:aws:kms:eu-west-1:123456789012:key/5678efgh-56ef-78gh-90ij-5678901234ef"},
			failed: strs("encryption:"+inStream, "encryption:"+outStream),
			fixes: []fixWant{fixFor(inStream, "orders", "arn:aws:kms:eu-west-1:123456789012:key/5678efgh-56ef-78gh-90ij-5678901234ef"),
				fixFor(outStream, "orders-enriched", "arn:aws:kms:eu-west-1:123456789012:key/5678efgh-56ef-78gh-90ij-5678901234ef")},
			mutate: func(a *model.Application) {
				a.Related.Streams[inStream] = unencrypted(inStream, "orders")
				a.Related.Streams[outStream] = unencrypted(outStream, "orders-enriched")
			}},
		{name: "stream found through the role only", want: rules.Compliant, mutate: onlyRole},
		{name: "stream unknown", want: rules.Unknown, contains: strs("orders-enriched", "ResourceNotFoundException"),
			mutate: func(a *model.Application) {
				a.Related.Streams[outStream] = model.Unknown[model.Stream]("kinesis:DescribeStreamSummary: ResourceNotFoundException")
			}},
		{name: "streams not read", want: rules.Unknown, mutate: func(a *model.Application) { a.Related.Streams = nil }},
		{name: "role unknown, streams named in properties encrypted: unknown", want: rules.Unknown,
			contains: strs("execution role"),
			mutate:   func(a *model.Application) { a.Related.Role = model.Unknown[model.Role]("iam:GetRole: AccessDenied") }},
		{name: "role unknown, a named stream unencrypted: non-compliant", want: rules.NonCompliant,
			failed: strs("encryption:" + inStream), fixes: []fixWant{fixFor(inStream, "orders", "alias/aws/kinesis")},
			contains: strs("could not verify other streams"),
			mutate: func(a *model.Application) {
				a.Related.Role = model.Unknown[model.Role]("iam:GetRole: AccessDenied")
				a.Related.Streams[inStream] = unencrypted(inStream, "orders")
			}},
		{name: "role grants kinesis on *: unknown", want: rules.Unknown, contains: strs("*"),
			mutate: func(a *model.Application) {
				setRole(a, func(r *model.Role) {
					r.Inline = model.Known([]model.NamedPolicy{{Name: "kinesis-any", Document: policy(
						`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kinesis:*","Resource":"*"}]}`)}})
				})
			}},
		{name: "no stream at all", want: rules.NotApplicable,
			mutate: func(a *model.Application) {
				onlyRole(a)
				setRole(a, func(r *model.Role) { r.Inline = model.Known([]model.NamedPolicy{}) })
			}},
		{name: "no stream known and role unknown", want: rules.Unknown,
			mutate: func(a *model.Application) {
				onlyRole(a)
				a.Related.Role = model.Unknown[model.Role]("iam:GetRole: AccessDenied")
			}},
		{name: "SQL application: inputs and outputs, Firehose ignored", want: rules.NonCompliant,
			failed: strs("encryption:" + outStream), fixes: []fixWant{fixFor(outStream, "orders-enriched", "alias/aws/kinesis")},
			absent: strs("orders-to-s3"),
			mutate: func(a *model.Application) {
				sqlApp(a)
				a.Related.Streams[outStream] = unencrypted(outStream, "orders-enriched")
			}},
		{name: "SQL application reading Firehose only", want: rules.NotApplicable,
			mutate: func(a *model.Application) {
				sqlApp(a)
				a.SQLInputs, a.SQLOutputs = nil, []string{"arn:aws:firehose:eu-west-1:123456789012:deliverystream/orders-to-s3"}
			}},
	})
}

func TestDP4CodeBucket(t *testing.T) {
	pabFix := fixWant{Condition: "public-access-block", Target: bucket, Args: map[string]string{"Bucket": bucket}}
	runTable(t, "KDA.DP.4", []ruleCase{
		{name: "locked down and pinned", want: rules.Compliant},
		{name: "public access block partly off: one fix", want: rules.NonCompliant, failed: strs("public-access-block"),
			fixes: []fixWant{pabFix}, contains: strs(bucket),
			mutate: func(a *model.Application) {
				setBucket(a, func(b *model.Bucket) {
					b.PublicAccessBlock = model.Known(model.PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true})
				})
			}},
		{name: "public access block off and object not pinned: fix for the block only", want: rules.NonCompliant,
			failed: strs("public-access-block", "object-version"), fixes: []fixWant{pabFix}, contains: strs(codeKey),
			mutate: func(a *model.Application) {
				setBucket(a, func(b *model.Bucket) { b.PublicAccessBlock = model.Known(model.PublicAccessBlock{}) })
				setCode(a, func(c *model.Code) { c.ObjectVersion = "" })
			}},
		{name: "object not pinned only: no fix", want: rules.NonCompliant, failed: strs("object-version"),
			mutate: func(a *model.Application) { setCode(a, func(c *model.Code) { c.ObjectVersion = "" }) }},
		{name: "public bucket policy", want: rules.NonCompliant, failed: strs("public-policy"),
			mutate: func(a *model.Application) { setBucket(a, func(b *model.Bucket) { b.PolicyPublic = model.Known(true) }) }},
		{name: "no default encryption", want: rules.NonCompliant, failed: strs("default-encryption"),
			mutate: func(a *model.Application) { setBucket(a, func(b *model.Bucket) { b.Encryption = model.Known("") }) }},
		{name: "SSE-S3 is encryption", want: rules.Compliant,
			mutate: func(a *model.Application) {
				setBucket(a, func(b *model.Bucket) { b.Encryption = model.Known("AES256") })
			}},
		{name: "public access block unknown", want: rules.Unknown, contains: strs("public access block"),
			mutate: func(a *model.Application) {
				setBucket(a, func(b *model.Bucket) {
					b.PublicAccessBlock = model.Unknown[model.PublicAccessBlock]("s3:GetPublicAccessBlock: AccessDenied")
				})
			}},
		{name: "policy status unknown", want: rules.Unknown,
			mutate: func(a *model.Application) {
				setBucket(a, func(b *model.Bucket) { b.PolicyPublic = model.Unknown[bool]("s3:GetBucketPolicyStatus: AccessDenied") })
			}},
		{name: "encryption unknown", want: rules.Unknown,
			mutate: func(a *model.Application) {
				setBucket(a, func(b *model.Bucket) { b.Encryption = model.Unknown[string]("s3:GetBucketEncryption: AccessDenied") })
			}},
		{name: "bucket unknown", want: rules.Unknown, contains: strs(bucket),
			mutate: func(a *model.Application) {
				a.Related.Bucket = model.Unknown[model.Bucket]("bucket in another account")
			}},
		{name: "code location unknown", want: rules.Unknown,
			mutate: func(a *model.Application) { a.Code = model.Unknown[model.Code]("template: S3Bucket is an import") }},
		{name: "inline code (not in S3)", want: rules.NotApplicable,
			mutate: func(a *model.Application) {
				a.Code = model.Known(model.Code{ContentType: "PLAINTEXT"})
				a.Related.Bucket = model.Unknown[model.Bucket]("no bucket")
			}},
	})
}
