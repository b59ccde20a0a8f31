// Package localaws is a loopback emulator of the slice of the AWS API that
// kdaguard uses. It speaks the real wire protocols (awsJson1_1, awsQuery,
// ec2Query, restXml and Smithy RPC v2 CBOR) so that the unmodified AWS SDK for
// Go v2 talks to it, with typed errors, pagination and retries intact.
//
// It is a test double for kdaguard's own API surface, not AWS: see README.md.
package localaws

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Options configures a Server.
type Options struct {
	// AccountID is the emulated account (default "123456789012").
	AccountID string
	// Region is the emulated Region (default "us-east-1").
	Region string
	// Faults are the fault injection rules active from the start.
	Faults []Fault
	// Logger receives one debug line per request (default: discard).
	Logger *slog.Logger
}

// Server is the emulator. It is an http.Handler; New returns one with clean
// state. All methods are safe for concurrent use.
type Server struct {
	opts Options
	log  *slog.Logger

	mu sync.Mutex // guards everything below and all service state

	journal []Entry
	faults  *faultSet

	transitionDelay time.Duration
	competing       map[string]int

	kda    *kdaState
	cfg    *configState
	iam    *iamState
	ec2    *ec2State
	logs   *logsState
	kms    *kmsState
	s3     *s3State
	kin    *kinesisState
	trail  *trailState
	cw     *cwState
	sns    *snsState
	events *eventsState
}

// New returns a Server with clean state.
func New(opts Options) *Server {
	if opts.AccountID == "" {
		opts.AccountID = "123456789012"
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	lg := opts.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: opts, log: lg, competing: map[string]int{}}
	s.faults = newFaultSet(opts.Faults)
	s.resetState()
	return s
}

func (s *Server) resetState() {
	s.kda = newKDAState()
	s.cfg = newConfigState()
	s.iam = newIAMState()
	s.ec2 = newEC2State()
	s.logs = newLogsState()
	s.kms = newKMSState()
	s.s3 = newS3State()
	s.kin = newKinesisState()
	s.trail = newTrailState()
	s.cw = newCWState()
	s.sns = newSNSState()
	s.events = newEventsState()
	s.competing = map[string]int{}
}

// Reset drops all service state, the journal and the competing writers (the
// fault set and transition delay are kept).
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resetState()
	s.journal = nil
}

// AccountID returns the emulated account id.
func (s *Server) AccountID() string { return s.opts.AccountID }

// Region returns the emulated Region.
func (s *Server) Region() string { return s.opts.Region }

// SetTransitionDelay sets how long STARTING, UPDATING and STOPPING last
// (0, the default, makes transitions immediate).
func (s *Server) SetTransitionDelay(d time.Duration) {
	s.mu.Lock()
	s.transitionDelay = d
	s.mu.Unlock()
}

// CompetingWriter arms a competing writer for an application: right after
// each of the next `times` successful DescribeApplication calls for it, the
// emulator itself updates the application (version bumped, new
// ConditionalToken, a property touched), so that the caller's next update
// with what it just read is stale. These writes are journaled as service
// "localaws", operation "CompetingWrite".
func (s *Server) CompetingWriter(applicationName string, times int) {
	s.mu.Lock()
	s.competing[applicationName] = times
	s.mu.Unlock()
}

// call is one decoded request.
type call struct {
	service string // canonical service name (SDK module name)
	op      string
	proto   protocol
	body    []byte
	json    map[string]any // awsJson / CBOR input
	form    map[string][]string
	r       *http.Request
	params  map[string]string
	reqID   string
	now     time.Time
}

func (c *call) param(k, v string) {
	if v == "" {
		return
	}
	if c.params == nil {
		c.params = map[string]string{}
	}
	c.params[k] = v
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, adminPrefix) {
		s.serveAdmin(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	c := &call{r: r, body: body, reqID: newRequestID(), now: time.Now().UTC()}
	resp := s.dispatch(c)
	resp.write(w, c)
}

// dispatch routes, applies faults, runs the handler and journals the call.
func (s *Server) dispatch(c *call) *response {
	start := time.Now()
	if e := s.route(c); e != nil {
		resp := errorResponse(c, e)
		s.record(c, resp, start)
		return resp
	}
	h := lookupHandler(c.service, c.op)
	if h == nil {
		resp := errorResponse(c, unknownOperation(c))
		s.record(c, resp, start)
		return resp
	}
	if e := c.decodeInput(); e != nil {
		resp := errorResponse(c, e)
		s.record(c, resp, start)
		return resp
	}
	keyParams(c)
	if e := s.applyFaults(c); e != nil {
		resp := errorResponse(c, e)
		s.record(c, resp, start)
		return resp
	}
	s.mu.Lock()
	out, herr := h(s, c)
	s.mu.Unlock()
	var resp *response
	if herr != nil {
		resp = errorResponse(c, herr)
	} else {
		resp = successResponse(c, out)
	}
	s.record(c, resp, start)
	return resp
}

func (s *Server) record(c *call, resp *response, start time.Time) {
	e := Entry{
		Time:      start,
		Service:   c.service,
		Operation: c.op,
		Params:    c.params,
		Status:    resp.status,
		ErrorCode: resp.errCode,
		Duration:  time.Since(start),
		RequestID: c.reqID,
	}
	s.mu.Lock()
	s.journal = append(s.journal, e)
	s.mu.Unlock()
	if s.log.Enabled(context.Background(), slog.LevelDebug) {
		s.log.Debug("request", "service", e.Service, "operation", e.Operation, "status", e.Status, "error", e.ErrorCode, "duration", e.Duration)
	}
}

// bytesReader avoids importing bytes in several files.
func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
