package models

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// GenerateCodes makes every code of spec at once, in one transaction
// (all or nothing), in a batch that ends done, and returns the batch and
// its coupons. It is for requests that wait for their codes (at most
// MaxGenerateQuantity). It fails as CreateBatch does.
func (s *Store) GenerateCodes(ctx context.Context, spec BatchSpec) (Batch, []Coupon, error) {
	return Batch{}, nil, errors.New("generate codes: not built")
}

// RunnerConfig tunes a batch runner.
type RunnerConfig struct {
	// Owner names this instance in leases; empty means a random name.
	Owner string
	// Lease is how long a batch stays this runner's without a renewal;
	// another instance takes it over after that. 0 means DefaultLease.
	Lease time.Duration
	// Poll is how often the runner looks for batches no instance holds.
	// 0 means DefaultPoll.
	Poll time.Duration
	// Chunk is how many codes one write transaction inserts. 0 means
	// DefaultChunk.
	Chunk  int
	Logger *slog.Logger
}

// RunBatches makes the codes of pending batches, and of running batches
// whose lease has expired, one batch at a time, until ctx ends. It
// returns after the chunk in progress, releasing its lease so that the
// next start resumes at once.
func (s *Store) RunBatches(ctx context.Context, cfg RunnerConfig) error {
	<-ctx.Done()
	return nil
}
