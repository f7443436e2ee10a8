package reports

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Merge puts the reports of the shards of one run (--shard 1/n .. n/n,
// suite.Shard) back together into the report of the whole run: every
// requirement's specs are those its shards ran, its result and reason are
// aggregated as New does, the baseline is applied again, and the verdict
// is the one the unsharded run would have had. It refuses reports that are
// not the n shards of one run (a shard missing or given twice, another
// target, fixture set, seed, kit version or strictness), since a merge of
// those would look complete and not be. A shard that could not run, or did
// not finish, makes the merged run incomplete: its specs are missing.
func Merge(shards []*Report) (*Report, error) {
	if len(shards) == 0 {
		return nil, errors.New("report merge: no reports to merge")
	}
	first := shards[0]
	n := 0
	seen := map[int]bool{}
	for i, r := range shards {
		if r.Shard == nil {
			return nil, fmt.Errorf("report merge: report %d (target %s) is not a shard's: run each shard with --shard i/n", i+1, r.Target.Name)
		}
		if n == 0 {
			n = r.Shard.Count
		}
		switch {
		case r.Shard.Count != n:
			return nil, fmt.Errorf("report merge: shard %s and shard %s are from runs split differently", first.Shard, r.Shard)
		case seen[r.Shard.Index]:
			return nil, fmt.Errorf("report merge: shard %s is given twice", r.Shard)
		case r.Target.Name != first.Target.Name || r.Target.Mode != first.Target.Mode:
			return nil, fmt.Errorf("report merge: shard %s ran target %s (%s), shard %s ran %s (%s)", first.Shard, first.Target.Name, first.Target.Mode, r.Shard, r.Target.Name, r.Target.Mode)
		case !slices.Equal(r.Fixtures, first.Fixtures):
			return nil, fmt.Errorf("report merge: shard %s ran fixtures %v, shard %s ran %v", first.Shard, first.Fixtures, r.Shard, r.Fixtures)
		case r.Seed != first.Seed:
			return nil, fmt.Errorf("report merge: shard %s ran seed %d, shard %s seed %d", first.Shard, first.Seed, r.Shard, r.Seed)
		case r.KitVersion != first.KitVersion:
			return nil, fmt.Errorf("report merge: shard %s is from kit %s, shard %s from kit %s", first.Shard, first.KitVersion, r.Shard, r.KitVersion)
		case r.Summary.Strict != first.Summary.Strict:
			return nil, fmt.Errorf("report merge: shard %s and shard %s differ in --strict", first.Shard, r.Shard)
		case len(r.Requirements) != len(first.Requirements):
			return nil, fmt.Errorf("report merge: shard %s and shard %s list different requirements", first.Shard, r.Shard)
		}
		seen[r.Shard.Index] = true
	}
	var missing []string
	for i := 1; i <= n; i++ {
		if !seen[i] {
			missing = append(missing, fmt.Sprintf("%d/%d", i, n))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("report merge: shard(s) %s missing: give every shard's report", strings.Join(missing, ", "))
	}
	ordered := slices.Clone(shards)
	sort.Slice(ordered, func(i, j int) bool { return ordered[i].Shard.Index < ordered[j].Shard.Index })

	m := &Report{
		Schema: Schema, KitVersion: first.KitVersion, Target: Target{Name: first.Target.Name, Mode: first.Target.Mode},
		Fixtures: nonNil(slices.Clone(first.Fixtures)), Seed: first.Seed, Command: first.Command,
	}
	var runErrors, incomplete []string
	for _, r := range ordered {
		if r.GeneratedAt.After(m.GeneratedAt) {
			m.GeneratedAt = r.GeneratedAt
		}
		if m.Target.Declaration == nil && r.Target.Declaration != nil {
			m.Target.Declaration = r.Target.Declaration
		}
		if r.RunError != "" {
			runErrors = append(runErrors, "shard "+r.Shard.String()+": "+r.RunError)
		}
		if r.Incomplete != "" {
			incomplete = append(incomplete, "shard "+r.Shard.String()+": "+r.Incomplete)
		}
	}
	if m.Target.Declaration == nil {
		for _, r := range ordered {
			if r.Target.DeclarationError != "" {
				m.Target.DeclarationError = r.Target.DeclarationError
				break
			}
		}
	}
	if len(runErrors) == len(ordered) {
		// No shard ran anything: the merged run could not happen either.
		m.RunError = strings.Join(runErrors, "\n")
	} else if len(runErrors) > 0 {
		incomplete = append(incomplete, runErrors...)
	}
	if len(incomplete) > 0 {
		m.Incomplete = "not every shard finished: " + strings.Join(incomplete, "; ")
	}
	for i, q := range first.Requirements {
		mq := q
		mq.KnownFailure = nil
		mq.Specs = []Spec{}
		for _, r := range ordered {
			rq := r.Requirements[i]
			if rq.ID != q.ID {
				return nil, fmt.Errorf("report merge: shard %s and shard %s list requirements in another order (%s, %s)", first.Shard, r.Shard, q.ID, rq.ID)
			}
			for _, s := range rq.Specs {
				if s.Result != OtherShard {
					mq.Specs = append(mq.Specs, s)
				}
			}
		}
		sortSpecs(mq.Specs, m.Fixtures)
		mq.Result = aggregate(mq.Specs)
		if mq.Result == NotRun && mq.Status == "retired" {
			mq.Result = Retired
		}
		mq.Reason = reason(mq)
		if m.RunError != "" && mq.Status == "checked" {
			mq.Reason = "the kit could not run the target: " + firstLine(m.RunError)
		}
		m.Requirements = append(m.Requirements, mq)
	}
	m.Summary = summarize(m.Requirements, m.Incomplete != "", first.Summary.Strict, 0)
	for _, r := range ordered {
		if r.Baseline != nil {
			m.ApplyBaseline(&Baseline{Schema: BaselineSchema, KnownFailures: r.Baseline.Entries}, r.Baseline.File)
			break
		}
	}
	return m, nil
}
