package template

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/kdaguard/kdaguard/shared/model"
)

func TestLoadAssembly(t *testing.T) {
	dir := filepath.Join("testdata", "cdk.out")
	apps, err := LoadAssembly(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != 2 {
		t.Fatalf("got %d applications, want 2", len(apps))
	}
	flink, sql := apps[0], apps[1]
	if flink.Origin.File != filepath.Join(dir, "StreamingStack.template.json") || flink.Origin.LogicalID != "AppF1B96344" || flink.Name != "AppF1B96344" {
		t.Errorf("flink origin %+v name %q", flink.Origin, flink.Name)
	}
	if sql.Origin.File != filepath.Join(dir, "assembly-Prod", "ProdSqlStack.template.json") || sql.Name != "legacy-sql" || !sql.IsSQL() {
		t.Errorf("sql origin %+v name %q", sql.Origin, sql.Name)
	}
	// CDK's generated names: the log group is keyed by its logical id.
	logs := known(t, "Logging", flink.Logging)
	if len(logs) != 1 || logs[0].LogGroup != "AppLogGroupA5ADFF4A" {
		t.Fatalf("logging %+v", logs)
	}
	if g := known(t, "log group", flink.Related.LogGroups["AppLogGroupA5ADFF4A"]); g.RetentionDays != 731 || g.KMSKeyID != "" {
		t.Errorf("log group %+v", g)
	}
	role := known(t, "Role", flink.Related.Role)
	if in := known(t, "Inline", role.Inline); len(in) != 1 || in[0].Name != "AppRoleDefaultPolicy9CADBAA1" {
		t.Errorf("inline %+v", in)
	}
	code := known(t, "Code", flink.Code)
	if code.Bucket != "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}" {
		t.Errorf("bucket %q", code.Bucket)
	}
	unknownWith(t, "CDK staging bucket", flink.Related.Bucket, "not defined in the template")
	if c := known(t, "Checkpoint", flink.Checkpoint); !c.IsEnabled() {
		t.Errorf("checkpoint %+v", c)
	}
	// SQL inputs resolve to the stream's symbolic ARN, which keys Related.Streams.
	want := model.StreamARN(sql.Partition, sql.Region, sql.Account, "Input")
	if len(sql.SQLInputs) != 1 || sql.SQLInputs[0] != want {
		t.Fatalf("SQL inputs %v, want %s", sql.SQLInputs, want)
	}
	if s := known(t, "stream", sql.Related.Streams[want]); s.EncryptionType != "KMS" {
		t.Errorf("stream %+v", s)
	}
}

func TestLoadAssemblyErrors(t *testing.T) {
	if _, err := LoadAssembly(t.TempDir()); err == nil || !strings.Contains(err.Error(), "manifest.json") {
		t.Errorf("missing manifest: %v", err)
	}
}

func TestSQLOutputs(t *testing.T) {
	apps, err := LoadAssembly(filepath.Join("testdata", "cdk.out"))
	if err != nil {
		t.Fatal(err)
	}
	sql := apps[1]
	out := model.StreamARN(sql.Partition, sql.Region, sql.Account, "legacy-out")
	if len(sql.SQLOutputs) != 1 || sql.SQLOutputs[0] != out {
		t.Fatalf("SQL outputs %v", sql.SQLOutputs)
	}
	if s := known(t, "output stream", sql.Related.Streams[out]); s.EncryptionType != "NONE" {
		t.Errorf("output stream %+v", s)
	}
}
