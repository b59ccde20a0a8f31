package rules_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/kdaguard/kdaguard/shared/model"
	"github.com/kdaguard/kdaguard/shared/rules"
)

// planted is a unique secret value: no output may ever contain it.
const planted = "Zq7pL2-planted-9fE3c1x"

// props replaces the runtime properties with one group.
func props(group string, kv map[string]string) func(a *model.Application) {
	return func(a *model.Application) {
		a.Properties = model.Known([]model.PropertyGroup{{ID: group, Properties: kv}})
	}
}

func TestDP5Secrets(t *testing.T) {
	flagged := func(key, value string) ruleCase {
		return ruleCase{name: "flags " + key, want: rules.NonCompliant, failed: strs("secret:ConsumerConfig/" + key),
			mutate: props("ConsumerConfig", map[string]string{key: value}), contains: strs("ConsumerConfig/" + key)}
	}
	clean := func(name, key, value string) ruleCase {
		return ruleCase{name: name, want: rules.Compliant, mutate: props("ConsumerConfig", map[string]string{key: value})}
	}
	cases := []ruleCase{
		{name: "baseline: secret ARN and stream names", want: rules.Compliant},
		{name: "no property groups", want: rules.Compliant, mutate: func(a *model.Application) {
			a.Properties = model.Known([]model.PropertyGroup{})
		}},
		{name: "properties unknown", want: rules.Unknown, contains: strs("runtime properties"),
			mutate: func(a *model.Application) {
				a.Properties = model.Unknown[[]model.PropertyGroup]("template: EnvironmentProperties is Fn::If")
			}},
		// Access key ids, under any key.
		{name: "access key id", want: rules.NonCompliant, failed: strs("secret:ConsumerConfig/aws.credentials.provider.basic.accesskeyid"),
			mutate:   props("ConsumerConfig", map[string]string{"aws.credentials.provider.basic.accesskeyid": "AKIAIOSFODNN7EXAMPLE"}),
			contains: strs("access key id"), absent: strs("AKIAIOSFODNN7EXAMPLE")},
		{name: "temporary access key id inside a value", want: rules.NonCompliant, failed: strs("secret:ConsumerConfig/connector.options"),
			mutate:   props("ConsumerConfig", map[string]string{"connector.options": "region=eu-west-1;key=ASIAY34FZKBOKMUTVV7A;"}),
			contains: strs("access key id")},
		// Secret-named keys holding a literal.
		flagged("password", planted),
		flagged("db.password", planted),
		flagged("ssl.truststore.password", "changeit"),
		flagged("secret", planted),
		flagged("secret.key", planted),
		flagged("aws.secretAccessKey", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
		flagged("token", planted),
		flagged("github.token", "ghp_16C7e42F292c6912E7710c838347Ae178B4a"),
		flagged("apiKey", planted),
		flagged("datadog.api.key", planted),
		flagged("client_secret", planted),
		flagged("SNOWFLAKE_PRIVATE_KEY", planted),
		flagged("mqtt.passphrase", planted),
		flagged("pin.token", "12345678"),
		flagged("dbpassword", planted),
		flagged("kafka.clientsecret", planted),
		// Passwords embedded in values.
		flagged("sasl.jaas.config", `org.apache.kafka.common.security.scram.ScramLoginModule required username="flink" password="`+planted+`";`),
		flagged("jdbc.url", "jdbc:postgresql://orders-db.cluster-c1xyz.eu-west-1.rds.amazonaws.com:5432/orders?user=flink&password="+planted),
		flagged("jdbc.connection", "jdbc:sqlserver://db.example.com:1433;databaseName=orders;user=flink;password="+planted+";encrypt=true"),
		flagged("sink.endpoint", "https://flink:"+planted+"@search-orders-abc123.eu-west-1.es.amazonaws.com/_bulk"),
		flagged("broker", "amqps://orders:"+planted+"@b-1234abcd.mq.eu-west-1.amazonaws.com:5671"),
		// Not credentials.
		clean("Secrets Manager ARN under a secret-named key", "password", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/orders/db-AbCdEf"),
		clean("SSM parameter ARN", "token", "arn:aws:ssm:eu-west-1:123456789012:parameter/prod/orders/api-token"),
		clean("dynamic reference", "db.password", "{{resolve:secretsmanager:prod/orders/db:SecretString:password}}"),
		clean("secure SSM dynamic reference", "api.key", "{{resolve:ssm-secure:/prod/orders/api-key:3}}"),
		clean("template placeholder", "password", model.UnresolvedPrefix+"Ref DbPassword}}"),
		clean("environment placeholder", "secret", "${DB_SECRET}"),
		clean("secret.arn", "secret.arn", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/orders/db-AbCdEf"),
		clean("secret name", "db.secret.name", "prod/orders/db"),
		clean("secret id", "secretId", "prod/orders/db"),
		clean("token refresh interval", "token.refresh.interval", "3600"),
		clean("use.token.auth flag", "use.token.auth", "true"),
		clean("auth token enabled", "auth.token.enabled", "false"),
		clean("secret region", "secret.region", "eu-west-1"),
		clean("password provider class", "password.provider.class", "com.example.SecretsManagerPasswordProvider"),
		clean("secret cache ttl", "secret.cache.ttl", "300"),
		clean("empty password", "password", ""),
		clean("password null", "password", "null"),
		clean("stream name", "input.stream.name", "orders"),
		clean("stream ARN", "output.stream.arn", outStream),
		clean("bucket path", "s3.path", "s3://orders-archive-123456789012/raw/"),
		clean("URL without user-info", "endpoint", "https://search-orders-abc123.eu-west-1.es.amazonaws.com:443/_bulk"),
		clean("URL with a user only", "endpoint", "https://flink@search-orders-abc123.eu-west-1.es.amazonaws.com/_bulk"),
		clean("JAAS with IAM auth", "sasl.jaas.config", "software.amazon.msk.auth.iam.IAMLoginModule required;"),
		clean("JAAS password from a secret", "sasl.jaas.config",
			`org.apache.kafka.common.security.scram.ScramLoginModule required username="flink" password="arn:aws:secretsmanager:eu-west-1:123456789012:secret:AmazonMSK_orders-AbCdEf";`),
		clean("JDBC without password", "jdbc.url", "jdbc:postgresql://orders-db:5432/orders?user=flink&ssl=true"),
		clean("keystore location", "ssl.keystore.location", "/tmp/kafka.client.keystore.jks"),
		clean("KMS key id", "kms.key.id", "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
		clean("longer upper-case run is not an access key id", "build.id", "XAKIAIOSFODNN7EXAMPLE"),
		clean("21 characters is not an access key id", "commit", "AKIAIOSFODNN7EXAMPLEX"),
		clean("too short for an access key id", "ref", "AKIAIOSFODNN7EXA"),
		clean("monkey is not a key", "monkey", "bananas"),
		clean("plain key word", "partition.key", "orderId"),
		clean("token.endpoint", "oauth.token.endpoint.uri", "https://auth.example.com/oauth2/token"),
	}
	runTable(t, "KDA.DP.5", cases)
}

// Several findings across groups: each one named by group and key.
func TestDP5SeveralGroups(t *testing.T) {
	app := newApp()
	app.Properties = model.Known([]model.PropertyGroup{
		{ID: "FlinkApplicationProperties", Properties: map[string]string{"input.stream.name": "orders"}},
		{ID: "KafkaSource", Properties: map[string]string{"sasl.jaas.config": `org.apache.kafka.common.security.plain.PlainLoginModule required username="orders" password="` + planted + `";`}},
		{ID: "Sink", Properties: map[string]string{"opensearch.password": planted, "opensearch.username": "flink"}},
	})
	res := evaluate(t, "KDA.DP.5", app, nil, now)
	if res.Status != rules.NonCompliant {
		t.Fatalf("status %s", res.Status)
	}
	slices.Sort(res.Failed)
	if want := strs("secret:KafkaSource/sasl.jaas.config", "secret:Sink/opensearch.password"); !slices.Equal(res.Failed, want) {
		t.Errorf("failed = %q, want %q", res.Failed, want)
	}
	for _, s := range []string{"KafkaSource/sasl.jaas.config (embedded password)", "Sink/opensearch.password (secret-named key)", "Secrets Manager"} {
		if !strings.Contains(res.Message, s) {
			t.Errorf("message %q lacks %q", res.Message, s)
		}
	}
	refs := rules.FindSecrets(app.Properties.Value())
	if len(refs) != 2 {
		t.Fatalf("FindSecrets = %+v", refs)
	}
	for _, r := range refs {
		if strings.Contains(jsonOf(r), planted) {
			t.Errorf("SecretRef carries the value: %+v", r)
		}
	}
}

// No output of the whole catalog ever contains a value that KDA.DP.5 flags.
func TestSecretValueNeverInOutput(t *testing.T) {
	secrets := map[string]string{
		"password":            planted + "-a",
		"aws.secretAccessKey": planted + "-b",
		"sasl.jaas.config":    `org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="` + planted + `-c";`,
		"jdbc.url":            "jdbc:mysql://orders-db:3306/orders?user=flink&password=" + planted + "-d",
		"sink.endpoint":       "https://flink:" + planted + "-e@search-orders.eu-west-1.es.amazonaws.com/",
		"access.key.id":       "AKIAI44QH8DHBPLANTED",
		"api.token":           planted + "-f",
	}
	for _, broken := range []bool{false, true} {
		app := newApp()
		app.Properties = model.Known([]model.PropertyGroup{{ID: "FlinkApplicationProperties", Properties: secrets}})
		if broken {
			// Make every rule fail, so that every failing message is built.
			app.Logging = model.Known([]model.LoggingOption{})
			app.Snapshots = model.Known(false)
			app.Runtime = model.Known("FLINK-1_13")
			app.Related.Role = model.Unknown[model.Role]("iam:GetRole: AccessDenied")
		}
		sel, err := rules.Select(nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		fs := sel.Evaluate(app, now)
		for _, f := range fs {
			checkInvariants(t, f)
			out := f.Message + jsonOf(f.Failed) + jsonOf(f.Fixes)
			for _, leak := range []string{planted, "AKIAI44QH8DHBPLANTED"} {
				if strings.Contains(out, leak) {
					t.Errorf("%s output contains a flagged secret value: %s", f.Rule.ID, out)
				}
			}
		}
		var dp5 rules.Finding
		for _, f := range fs {
			if f.Rule.ID == "KDA.DP.5" {
				dp5 = f
			}
		}
		if dp5.Status != rules.NonCompliant || len(dp5.Failed) != len(secrets) {
			t.Errorf("DP.5 = %s with %d failed, want %d: %s", dp5.Status, len(dp5.Failed), len(secrets), dp5.Message)
		}
	}
}

// A long list of findings is clipped to the annotation limit, on a rune
// boundary, and the clipped message still leaks nothing.
func TestDP5ManyFindingsClipped(t *testing.T) {
	kv := map[string]string{}
	for _, k := range []string{"password", "secret", "token", "api.key", "client.secret", "db.password", "mq.password",
		"redis.password", "opensearch.password", "snowflake.private.key", "datadog.api.key", "slack.token"} {
		kv[k] = planted
	}
	app := newApp()
	app.Properties = model.Known([]model.PropertyGroup{{ID: "認証情報-グループ", Properties: kv}})
	res := evaluate(t, "KDA.DP.5", app, nil, now)
	if res.Status != rules.NonCompliant || len(res.Failed) != len(kv) {
		t.Fatalf("%s with %d failed", res.Status, len(res.Failed))
	}
	if len(res.Message) > rules.MaxMessage || !strings.HasSuffix(res.Message, "...") {
		t.Errorf("message %d bytes: %q", len(res.Message), res.Message)
	}
	if strings.Contains(res.Message, planted) {
		t.Error("message contains the value")
	}
}
