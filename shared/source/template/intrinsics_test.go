package template

import (
	"strings"
	"testing"

	"github.com/kdaguard/kdaguard/shared/model"
)

// propTemplate wraps one property value expression in a minimal template.
func propTemplate(extra, value string) string {
	return `Parameters:
  Env: {Type: String, Default: prod}
  Azs: {Type: CommaDelimitedList, Default: "a, b, c"}
  Secret: {Type: String, NoEcho: true, Default: x}
  Free: {Type: String}
  Only: {Type: String, AllowedValues: [prod]}
Mappings:
  Cfg:
    prod: {Level: INFO}
Conditions:
  IsProd: !Equals [!Ref Only, prod]
  EnvProd: !Equals [!Ref Env, prod]
  SubProd: !Equals [!Sub "${Env}", prod]
  MapProd: !Equals [!FindInMap [Cfg, !Ref Env, Level], INFO]
  IsDev: !Not [!Condition IsProd]
  Both: !And [!Condition IsProd, !Equals [a, a]]
  RegionCond: !Equals [!Ref AWS::Region, eu-west-1]
Resources:
` + extra + `
  S:
    Type: AWS::Kinesis::Stream
    Properties: {Name: s1}
  App:
    Type: AWS::KinesisAnalyticsV2::Application
    Properties:
      RuntimeEnvironment: FLINK-1_20
      ServiceExecutionRole: arn:aws:iam::111122223333:role/r
      ApplicationConfiguration:
        EnvironmentProperties:
          PropertyGroups:
            - PropertyGroupId: g
              PropertyMap:
                v: ` + value + "\n"
}

func TestIntrinsics(t *testing.T) {
	ph := func(n string) string { return model.UnresolvedPrefix + n + "}}" }
	cases := []struct{ name, value, want string }{
		{"literal", `plain`, "plain"},
		{"ref param default", `!Ref Env`, "prod"},
		{"ref param no default", `!Ref Free`, ph("Free")},
		{"ref NoEcho", `!Ref Secret`, ph("Secret")},
		{"ref pseudo", `!Ref AWS::AccountId`, "${AWS::AccountId}"},
		{"ref resource", `!Ref S`, "s1"},
		{"ref unknown", `!Ref Nope`, ph("Nope")},
		{"getatt short", `!GetAtt S.Arn`, "arn:${AWS::Partition}:kinesis:${AWS::Region}:${AWS::AccountId}:stream/s1"},
		{"getatt list", `!GetAtt [S, Arn]`, "arn:${AWS::Partition}:kinesis:${AWS::Region}:${AWS::AccountId}:stream/s1"},
		{"getatt long", `{"Fn::GetAtt": "S.Arn"}`, "arn:${AWS::Partition}:kinesis:${AWS::Region}:${AWS::AccountId}:stream/s1"},
		{"getatt after deploy", `!GetAtt S.StreamId`, ph("S.StreamId")},
		{"sub", `!Sub "${Env}-${S}-${AWS::Region}"`, "prod-s1-${AWS::Region}"},
		{"sub attr", `!Sub "${S.Arn}/x"`, "arn:${AWS::Partition}:kinesis:${AWS::Region}:${AWS::AccountId}:stream/s1/x"},
		{"sub escape", `!Sub "${!Literal}-${Env}"`, "${Literal}-prod"},
		{"sub vars", `!Sub ["${A}-${B}", {A: !Ref Env, B: x}]`, "prod-x"},
		{"sub unresolved", `!Sub "x-${Free}"`, ph("Free")},
		{"join", `!Join [":", [a, !Ref Env, !Ref AWS::Partition]]`, "a:prod:${AWS::Partition}"},
		{"join list param", `!Join ["|", !Ref Azs]`, "a|b|c"},
		{"select", `!Select [1, !Ref Azs]`, "b"},
		{"select split", `!Select [2, !Split ["/", "x/y/z"]]`, "z"},
		{"if true", `!If [IsProd, yes, no]`, "yes"},
		{"if not", `!If [IsDev, yes, no]`, "no"},
		{"if and", `!If [Both, yes, no]`, "yes"},
		{"if undecidable", `!If [RegionCond, yes, no]`, ph("If:RegionCond")},
		// A parameter's default can be overridden at deployment: a condition
		// on it is undecided, unless AllowedValues leaves one value.
		{"if on a default", `!If [EnvProd, yes, no]`, ph("If:EnvProd")},
		{"if on a default in Sub", `!If [SubProd, yes, no]`, ph("If:SubProd")},
		{"if on a default in FindInMap", `!If [MapProd, yes, no]`, ph("If:MapProd")},
		{"findinmap", `!FindInMap [Cfg, !Ref Env, Level]`, "INFO"},
		{"import", `!ImportValue shared-Thing`, ph("ImportValue:shared-Thing")},
		{"getazs", `!Select [0, !GetAZs ""]`, ph("GetAZs")},
		{"dynamic reference", `"{{resolve:ssm:/app/setting}}"`, "{{resolve:ssm:/app/setting}}"},
		{"base64", `!Base64 abc`, "abc"},
		{"number", `42`, "42"},
		{"bool", `true`, "true"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			apps, err := Parse("t.yaml", []byte(propTemplate("", c.value)))
			if err != nil {
				t.Fatal(err)
			}
			got := known(t, "Properties", apps[0].Properties)[0].Properties["v"]
			if got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestResourceConditions(t *testing.T) {
	src := propTemplate(`  Off:
    Type: AWS::KinesisAnalyticsV2::Application
    Condition: IsDev
    Properties: {RuntimeEnvironment: FLINK-1_20, ServiceExecutionRole: x}`, "x")
	apps, err := Parse("t.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != 1 || apps[0].Origin.LogicalID != "App" {
		t.Errorf("an application whose condition is false must be skipped: %d apps", len(apps))
	}
	unknownWith(t, "role outside the template", apps[0].Related.Role, "not defined in the template")
	unknownWith(t, "role users", apps[0].Related.RoleUsers, "other applications may use it")
}

// A byte order mark before JSON is skipped, lines still count from the file's start.
func TestJSONWithBOM(t *testing.T) {
	apps, err := Parse("bom.json", []byte("\ufeff{\n\"Resources\": {\n\"A\": {\"Type\": \"AWS::KinesisAnalyticsV2::Application\"}}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != 1 || apps[0].Origin.Line != 3 {
		t.Errorf("got %d applications, want 1 at line 3", len(apps))
	}
}

func TestJSONAndYAMLAgree(t *testing.T) {
	y := parseFile(t, "compliant.yaml")[0]
	// The same application written in JSON with long-form intrinsics.
	j, err := Parse("c.json", []byte(`{
	"Resources": {
		"Role": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": {"Fn::Sub": "order-enricher-${AWS::Region}"},
			"AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow", "Principal": {"Service": "kinesisanalytics.amazonaws.com"}, "Action": "sts:AssumeRole"}]}}},
		"OrderEnricher": {"Type": "AWS::KinesisAnalyticsV2::Application", "Properties": {
			"ApplicationName": "order-enricher", "RuntimeEnvironment": "FLINK-1_20",
			"ServiceExecutionRole": {"Fn::GetAtt": ["Role", "Arn"]}}}
	}}`))
	if err != nil {
		t.Fatal(err)
	}
	if j[0].RoleARN != y.RoleARN || j[0].ARN != y.ARN || j[0].Origin.Line != 5 {
		t.Errorf("JSON %v %q line %d vs YAML %v %q", j[0].RoleARN, j[0].ARN, j[0].Origin.Line, y.RoleARN, y.ARN)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"yaml syntax", "Resources:\n  A:\n    Type: [unclosed\n", "line"},
		{"json syntax", "{\n  \"Resources\": {\n    \"A\": {\"Type\": }\n  }\n}", "line 3"},
		{"json truncated", `{"Resources": {"A": {"Type": "x"}`, "line 1"},
		{"not a map", "- a\n- b\n", "not a map"},
		{"empty", "", "empty"},
		{"no resources", "AWSTemplateFormatVersion: '2010-09-09'\n", "no Resources"},
		{"resource not a map", "Resources:\n  A: 3\n", "line 2: resource A is not a map"},
		{"no type", "Resources:\n  A:\n    Properties: {}\n", "line 2: resource A has no Type"},
		{"properties not a map", "Resources:\n  A:\n    Type: AWS::KinesisAnalyticsV2::Application\n    Properties: [1]\n", "line 4"},
		{"unknown tag", "Resources:\n  A:\n    Type: !Bogus x\n", "unknown tag !Bogus"},
		{"alias bomb", aliasBomb(), "too large"},
		// A document that starts with "{" is JSON: its syntax errors are
		// JSON's, not YAML's, and it is not read as a YAML flow mapping.
		{"json trailing comma", "{\n \"Resources\": {\n  \"A\": {\"Type\": \"x\",}\n }\n}\n", "line 3: invalid JSON"},
		{"json trailing data", "{\"Resources\": {\"A\": {\"Type\": \"x\"}}}\n trailing\n", "line 2: invalid JSON"},
		{"json second document", "{\"Resources\": {}}\n{\"Resources\": {}}\n", "line 2: invalid JSON: invalid character '{' after top-level value"},
		{"json with a BOM", "\ufeff{\n\"Resources\": [}", "line 2: invalid JSON"},
		{"json duplicate key", "{\"Resources\": {\"A\": {\"Type\": \"x\",\n  \"Type\": \"y\"}}}", `line 2: duplicate key "Type"`},
		{"yaml duplicate key", "Resources:\n  A:\n    Type: x\n    Properties: {SnapshotsEnabled: true, SnapshotsEnabled: false}\n", `line 4: duplicate key "SnapshotsEnabled"`},
		{"yaml duplicate resource", "Resources:\n  A: {Type: x}\n  A: {Type: y}\n", `line 3: duplicate key "A"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("bad.yaml", []byte(c.src))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), "bad.yaml: ") || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q, want the file and %q", err, c.want)
			}
		})
	}
}

func aliasBomb() string {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		b.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	b.WriteString("Resources: {A: {Type: X}}\n")
	return b.String()
}

// Names built from names built from names must not blow up, and cycles end.
func TestExponentialAndCyclicNames(t *testing.T) {
	var b strings.Builder
	b.WriteString("Resources:\n")
	for i := 0; i < 40; i++ {
		next := "S" + strings.Repeat("x", i+1)
		b.WriteString("  S" + strings.Repeat("x", i) + ":\n    Type: AWS::Kinesis::Stream\n    Properties:\n      Name: !Sub \"${" + next + "}${" + next + "}\"\n")
	}
	b.WriteString("  S" + strings.Repeat("x", 40) + ":\n    Type: AWS::Kinesis::Stream\n    Properties: {Name: !Ref S}\n")
	b.WriteString("  App:\n    Type: AWS::KinesisAnalyticsV2::Application\n    Properties:\n      RuntimeEnvironment: FLINK-1_20\n      ApplicationName: !Ref S\n")
	apps, err := Parse("cycle.yaml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(apps[0].Name, model.UnresolvedPrefix) {
		t.Errorf("cyclic name resolved to %q", apps[0].Name)
	}
}
