package template

import (
	"encoding/json"
	"fmt"
	"testing"
)

// manyApplications builds a template of n applications that share one
// execution role, one security group and one subnet (one VPC
// configuration), each with its own log group and logging option. extra
// adds resources that also use the group (an instance) and a second group
// used by the first application alone.
func manyApplications(n int, extra bool) []byte {
	res := map[string]any{
		"AppRole": map[string]any{"Type": "AWS::IAM::Role", "Properties": map[string]any{
			"AssumeRolePolicyDocument": map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
				"Effect": "Allow", "Principal": map[string]any{"Service": "kinesisanalytics.amazonaws.com"}, "Action": "sts:AssumeRole"}}},
			"Policies": []any{map[string]any{"PolicyName": "logs", "PolicyDocument": map[string]any{"Version": "2012-10-17",
				"Statement": []any{map[string]any{"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}}}}},
		}},
		"AppSG": map[string]any{"Type": "AWS::EC2::SecurityGroup", "Properties": map[string]any{
			"GroupDescription": "apps", "VpcId": "vpc-0123",
			"SecurityGroupIngress": []any{map[string]any{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "10.0.0.0/16"}},
		}},
		"SubnetA":   map[string]any{"Type": "AWS::EC2::Subnet", "Properties": map[string]any{"VpcId": "vpc-0123", "CidrBlock": "10.0.1.0/24"}},
		"Rtb":       map[string]any{"Type": "AWS::EC2::RouteTable", "Properties": map[string]any{"VpcId": "vpc-0123"}},
		"RtbAssocA": map[string]any{"Type": "AWS::EC2::SubnetRouteTableAssociation", "Properties": map[string]any{"SubnetId": map[string]any{"Ref": "SubnetA"}, "RouteTableId": map[string]any{"Ref": "Rtb"}}},
		"NatRoute":  map[string]any{"Type": "AWS::EC2::Route", "Properties": map[string]any{"RouteTableId": map[string]any{"Ref": "Rtb"}, "DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-0abc"}},
	}
	if extra {
		res["Bastion"] = map[string]any{"Type": "AWS::EC2::Instance", "Properties": map[string]any{"SecurityGroupIds": []any{map[string]any{"Fn::GetAtt": []any{"AppSG", "GroupId"}}}}}
		res["OwnSG"] = map[string]any{"Type": "AWS::EC2::SecurityGroup", "Properties": map[string]any{"GroupDescription": "own", "VpcId": "vpc-0123"}}
		res["OwnSGIngress"] = map[string]any{"Type": "AWS::EC2::SecurityGroupIngress", "Properties": map[string]any{"GroupId": map[string]any{"Ref": "OwnSG"}, "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"}}
	}
	for i := 0; i < n; i++ {
		app := fmt.Sprintf("App%d", i)
		name := fmt.Sprintf("app-%d", i)
		sgs := []any{map[string]any{"Ref": "AppSG"}}
		if extra && i == 0 {
			sgs = append(sgs, map[string]any{"Ref": "OwnSG"})
		}
		res[app] = map[string]any{"Type": ApplicationType, "Properties": map[string]any{
			"ApplicationName":      name,
			"RuntimeEnvironment":   "FLINK-1_20",
			"ServiceExecutionRole": map[string]any{"Fn::GetAtt": []any{"AppRole", "Arn"}},
			"ApplicationConfiguration": map[string]any{
				"VpcConfigurations": []any{map[string]any{"SubnetIds": []any{map[string]any{"Ref": "SubnetA"}}, "SecurityGroupIds": sgs}},
			},
		}}
		res[fmt.Sprintf("Logs%d", i)] = map[string]any{"Type": "AWS::Logs::LogGroup", "Properties": map[string]any{
			"LogGroupName": "/aws/kinesis-analytics/" + name, "RetentionInDays": 365}}
		res[app+"Logging"] = map[string]any{"Type": "AWS::KinesisAnalyticsV2::ApplicationCloudWatchLoggingOption", "Properties": map[string]any{
			"ApplicationName": map[string]any{"Ref": app},
			"CloudWatchLoggingOption": map[string]any{"LogStreamARN": map[string]any{
				"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/kinesis-analytics/" + name + ":log-stream:main"}},
		}}
	}
	b, err := json.Marshal(map[string]any{"AWSTemplateFormatVersion": "2010-09-09", "Resources": res})
	if err != nil {
		panic(err)
	}
	return b
}

// BenchmarkParseManyApplications: n applications sharing a role and a
// security group must cost about n times one, not n².
func BenchmarkParseManyApplications(b *testing.B) {
	for _, n := range []int{500, 2000} {
		data := manyApplications(n, false)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				apps, err := Parse("many.json", data)
				if err != nil || len(apps) != n {
					b.Fatalf("%d applications, %v", len(apps), err)
				}
			}
		})
	}
}
