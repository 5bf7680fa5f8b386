// Command go-client drives one probectl-notify incident through the documented Temporal contract
// (docs/workflow-contract.md) with the Go SDK, as probectl itself does: open, correlate, acknowledge,
// query the state, resolve, and await the result.
//
//	go run . -address 127.0.0.1:7233 -tenant acme -incident inc-42
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"regexp"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// The contract: workflow type, id prefix, signal and query names, memo key.
const (
	workflowType    = "incidentWorkflow"
	signalCorrelate = "correlate"
	signalAck       = "acknowledge"
	signalResolve   = "resolve"
	queryState      = "state"
	tenantMemoKey   = "tenantId"
)

var incidentIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

// Incident is the workflow input's `incident`.
type Incident struct {
	ID       string            `json:"id"`
	TenantID string            `json:"tenantId"`
	Title    string            `json:"title"`
	Severity string            `json:"severity"` // critical | error | warning | info
	Summary  string            `json:"summary,omitempty"`
	Source   string            `json:"source,omitempty"`
	URL      string            `json:"url,omitempty"`
	OpenedAt string            `json:"openedAt"` // ISO 8601
	Labels   map[string]string `json:"labels,omitempty"`
}

type WorkflowInput struct {
	Incident Incident `json:"incident"`
	// Again: set it when this start is known to follow an ended run of the same id (say, one this caller terminated):
	// that run may have sent opens it never recorded, so the new run still resolves a link whose open the provider
	// refused (docs/workflow-contract.md, "Links"). A single start under USE_EXISTING cannot tell, so it leaves it unset.
	Again bool `json:"again,omitempty"`
}

type CorrelateSignal struct {
	TenantID string `json:"tenantId"`
	SignalID string `json:"signalId"`
	Summary  string `json:"summary,omitempty"`
	At       string `json:"at"`
}

type AcknowledgeSignal struct {
	TenantID string `json:"tenantId"`
	Source   string `json:"source"`
	Actor    string `json:"actor,omitempty"`
	At       string `json:"at"`
}

type ResolveSignal struct {
	TenantID string `json:"tenantId"`
	Source   string `json:"source"` // a connector id, "api" or "probectl"
	Actor    string `json:"actor,omitempty"`
	Reason   string `json:"reason,omitempty"`
	At       string `json:"at"`
}

type Link struct {
	ConnectorID string `json:"connectorId"`
	Provider    string `json:"provider"`
	Status      string `json:"status"`
	ExternalRef string `json:"externalRef,omitempty"`
	ExternalURL string `json:"externalUrl,omitempty"`
	Error       string `json:"error,omitempty"`
	UpdatedAt   string `json:"updatedAt"`
}

type TimelineEntry struct {
	Seq         int    `json:"seq"`
	At          string `json:"at"`
	Kind        string `json:"kind"`
	ConnectorID string `json:"connectorId,omitempty"`
	Source      string `json:"source,omitempty"`
	Actor       string `json:"actor,omitempty"`
	Detail      string `json:"detail,omitempty"`
}

type State struct {
	Incident         Incident        `json:"incident"`
	Status           string          `json:"status"` // open | acknowledged | resolved
	Links            []Link          `json:"links"`
	Timeline         []TimelineEntry `json:"timeline"`
	CorrelationCount int             `json:"correlationCount"`
}

type Resolution struct {
	ResolvedAt string `json:"resolvedAt"`
	Source     string `json:"source"`
	Actor      string `json:"actor,omitempty"`
	Reason     string `json:"reason,omitempty"`
	Links      []Link `json:"links"`
}

func now() string { return time.Now().UTC().Format(time.RFC3339Nano) }

func main() {
	address := flag.String("address", envOr("TEMPORAL_ADDRESS", "127.0.0.1:7233"), "Temporal frontend host:port")
	namespace := flag.String("namespace", envOr("TEMPORAL_NAMESPACE", "default"), "Temporal namespace")
	taskQueue := flag.String("task-queue", envOr("PROBECTL_NOTIFY_TASK_QUEUE", "probectl-notify"), "task queue of the probectl-notify worker")
	tenant := flag.String("tenant", "acme", "tenant of the incident")
	incidentID := flag.String("incident", fmt.Sprintf("go-%d", time.Now().UnixNano()), "incident id ([A-Za-z0-9._-]{1,128})")
	title := flag.String("title", "Packet loss on edge-router-3 uplink", "incident title")
	severity := flag.String("severity", "critical", "critical | error | warning | info")
	timeout := flag.Duration("timeout", 2*time.Minute, "overall deadline")
	flag.Parse()

	if !incidentIDPattern.MatchString(*incidentID) {
		fail(2, "invalid -incident: must match %s", incidentIDPattern)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := run(ctx, *address, *namespace, *taskQueue, Incident{
		ID: *incidentID, TenantID: *tenant, Title: *title, Severity: *severity,
		Summary: "opened by the Go client example", Source: "probectl", OpenedAt: now(),
	}); err != nil {
		fail(1, "%v", err)
	}
}

// priorityKey: the contract's task-queue priority per severity (1 is the most urgent; 3 is Temporal's default).
var priorityKey = map[string]int{"critical": 1, "error": 2, "warning": 3, "info": 4}

func run(ctx context.Context, address, namespace, taskQueue string, inc Incident) error {
	c, err := client.Dial(client.Options{HostPort: address, Namespace: namespace})
	if err != nil {
		return fmt.Errorf("connect to Temporal at %s: %w", address, err)
	}
	defer c.Close()
	workflowID := "probectl-" + inc.ID

	// 1. Open: idempotent by id. A second open while it runs returns the same run (USE_EXISTING); an open after
	//    it completed is refused by the server (ALLOW_DUPLICATE_FAILED_ONLY) — treat that as "already resolved".
	//    The Go SDK hides that refusal (it returns the completed run as if it had started) unless
	//    WorkflowExecutionErrorWhenAlreadyStarted is set; with it, the refusal arrives as
	//    serviceerror.WorkflowExecutionAlreadyStarted.
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                                       workflowID,
		TaskQueue:                                taskQueue,
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		Memo:                                     map[string]interface{}{tenantMemoKey: inc.TenantID},
		StaticSummary:                            fmt.Sprintf("%s: %s", inc.Severity, inc.Title),
		// Task-queue priority by severity, as probectl-notify's own API sets it (docs/workflow-contract.md): in a
		// storm a critical incident's tasks overtake the backlog of less severe ones.
		Priority: temporal.Priority{PriorityKey: priorityKey[inc.Severity]},
	}, workflowType, WorkflowInput{Incident: inc})
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &already) {
		emit("opened", map[string]any{"workflowId": workflowID, "outcome": "already_closed"})
		return nil
	}
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	emit("opened", map[string]any{"workflowId": run.GetID(), "runId": run.GetRunID()})

	// Wait until every connector's open has settled (no link pending).
	st, err := waitState(ctx, c, workflowID, func(s State) bool {
		if len(s.Links) == 0 {
			return false
		}
		for _, l := range s.Links {
			if l.Status == "pending" {
				return false
			}
		}
		return true
	})
	if err != nil {
		return err
	}
	emit("links", map[string]any{"links": st.Links})

	// 2. Correlate: recorded on the timeline, never re-pages. Signals never pin a run id.
	if err := c.SignalWorkflow(ctx, workflowID, "", signalCorrelate, CorrelateSignal{
		TenantID: inc.TenantID, SignalID: "go-sig-1", Summary: "another probe sees the same loss", At: now(),
	}); err != nil {
		return fmt.Errorf("correlate: %w", err)
	}
	// 3. Acknowledge.
	if err := c.SignalWorkflow(ctx, workflowID, "", signalAck, AcknowledgeSignal{
		TenantID: inc.TenantID, Source: "probectl", Actor: "go-client", At: now(),
	}); err != nil {
		return fmt.Errorf("acknowledge: %w", err)
	}
	// 4. Query.
	st, err = waitState(ctx, c, workflowID, func(s State) bool { return s.Status == "acknowledged" && s.CorrelationCount == 1 })
	if err != nil {
		return err
	}
	emit("state", map[string]any{"status": st.Status, "correlationCount": st.CorrelationCount, "links": st.Links})

	// 5. Resolve. A NotFound here means the incident already completed: treat as resolved.
	err = c.SignalWorkflow(ctx, workflowID, "", signalResolve, ResolveSignal{
		TenantID: inc.TenantID, Source: "probectl", Actor: "go-client", Reason: "fixed upstream", At: now(),
	})
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		emit("resolved", map[string]any{"outcome": "already_resolved"})
		return nil
	}
	if err != nil {
		return fmt.Errorf("resolve: %w", err)
	}

	// 6. Await the result: the resolution, after the fan-out and the mirror are final. GetWorkflow with no
	//    run id follows continue-as-new to the latest run.
	var res Resolution
	if err := c.GetWorkflow(ctx, workflowID, "").Get(ctx, &res); err != nil {
		return fmt.Errorf("await result: %w", err)
	}
	emit("result", map[string]any{"resolution": res})
	return nil
}

func waitState(ctx context.Context, c client.Client, workflowID string, done func(State) bool) (State, error) {
	for {
		var s State
		v, err := c.QueryWorkflow(ctx, workflowID, "", queryState)
		if err == nil {
			err = v.Get(&s)
		}
		if err == nil && done(s) {
			return s, nil
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return s, fmt.Errorf("query state: %w", err)
			}
			return s, fmt.Errorf("timed out waiting for the incident state (last status %q)", s.Status)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// emit prints one JSON line per step, so scripts and tests can read the progress.
func emit(step string, fields map[string]any) {
	fields["step"] = step
	b, _ := json.Marshal(fields)
	fmt.Println(string(b))
}

func envOr(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}

func fail(code int, format string, args ...any) {
	fmt.Fprintf(os.Stderr, "go-client: "+format+"\n", args...)
	os.Exit(code)
}
