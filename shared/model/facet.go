package model

// Facet names a group of related facts that a rule needs and a collector
// reads: the unit of lazy loading. The application's own settings
// (DescribeApplication) and its tags are always read and are not facets.
type Facet string

// Facets, in the order a collector can read them (Streams depends on Role).
const (
	FacetRole           Facet = "role"            // trust, inline and attached policies
	FacetRoleUsers      Facet = "role-users"      // other applications with the same role
	FacetKey            Facet = "kms-key"         // state, spec, rotation, policy
	FacetLogGroups      Facet = "log-groups"      // retention, KMS
	FacetSubnets        Facet = "subnets"         // effective route tables
	FacetSecurityGroups Facet = "security-groups" // ingress rules, ENIs using them
	FacetBucket         Facet = "code-bucket"     // public access block, encryption, policy status
	FacetStreams        Facet = "streams"         // Kinesis streams read or written
	FacetAlarms         Facet = "alarms"
	FacetSnapshots      Facet = "snapshots"
	FacetTrails         Facet = "trails"    // account: CloudTrail
	FacetRecorders      Facet = "recorders" // account: AWS Config recorder
)
