package suite

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// OtherShard is the state of a spec that a sharded run left to another
// shard (the Shard option): neither passed nor failed nor skipped, and not
// "not run" either, since the shards of the run together run it.
const OtherShard State = "other-shard"

// otherShardLabel marks, at registration, the specs of other shards; the
// run's label filter leaves them out, so they cost nothing (not even the
// start of a fixture none of whose specs are in the shard).
const otherShardLabel = "other-shard"

// ShardSpec is part Index (1-based) of Count of a run's work; the zero
// value is the whole run.
type ShardSpec struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// String is the form --shard takes: "2/3".
func (s ShardSpec) String() string { return strconv.Itoa(s.Index) + "/" + strconv.Itoa(s.Count) }

// ParseShard reads "i/n" (--shard), 1 <= i <= n.
func ParseShard(v string) (ShardSpec, error) {
	a, b, ok := strings.Cut(v, "/")
	i, ierr := strconv.Atoi(a)
	n, nerr := strconv.Atoi(b)
	if !ok || ierr != nil || nerr != nil {
		return ShardSpec{}, fmt.Errorf("shard %q: want i/n, such as 1/3", v)
	}
	s := ShardSpec{Index: i, Count: n}
	return s, s.check()
}

func (s ShardSpec) check() error {
	if s == (ShardSpec{}) {
		return nil
	}
	if s.Count < 1 || s.Index < 1 || s.Index > s.Count {
		return fmt.Errorf("shard %d/%d: want 1 <= i <= n", s.Index, s.Count)
	}
	return nil
}

// ShardOf is the shard (1..n) that runs the specs of a requirement on a
// fixture and host shape ("" for specs about the whole target). It hashes
// the three names, nothing about the target or the order specs are
// registered in, so every shard of a run, each its own process, agrees on
// it, and so do two runs of different kit builds with the same SPEC IDs.
func ShardOf(requirement, fixture, shape string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(requirement + "\x00" + fixture + "\x00" + shape))
	return int(h.Sum32()%uint32(n)) + 1
}

// of is ShardOf for this run's shard count.
func (s ShardSpec) of(requirement, fixture, shape string) int {
	return ShardOf(requirement, fixture, shape, s.Count)
}

// elsewhere reports whether a spec belongs to another shard than this one.
func (s ShardSpec) elsewhere(requirement, fixture, shape string) bool {
	return s.Count > 0 && s.of(requirement, fixture, shape) != s.Index
}
