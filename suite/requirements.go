package suite

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"sync"

	adapterconformance "github.com/adapterconformance/adapter-conformance"
)

// Requirement is one row of SPEC.md.
type Requirement struct {
	ID          string
	Area        string
	Level       string // MUST or SHOULD
	Shapes      []string
	Modes       []string
	Status      string // "checked", or "planned #N"
	Text        string
	Source      string
	AreaTitle   string
	lineInSpecs int
}

// Retired reports whether the requirement was dropped (kept for its ID).
func (r Requirement) Retired() bool { return r.Status == "retired" }

// Checked reports whether the suite is meant to have specs for it now.
func (r Requirement) Checked() bool { return r.Status == "checked" }

// AppliesToShape reports whether the requirement covers a host shape.
func (r Requirement) AppliesToShape(shape string) bool { return containsOrAll(r.Shapes, shape) }

// AppliesToMode reports whether the requirement covers a target mode.
func (r Requirement) AppliesToMode(mode string) bool { return containsOrAll(r.Modes, mode) }

func containsOrAll(list []string, v string) bool {
	for _, x := range list {
		if x == "all" || x == v {
			return true
		}
	}
	return false
}

var (
	idPattern     = regexp.MustCompile(`^[A-Z]+-[0-9]+$`)
	areaHeading   = regexp.MustCompile(`^## ([A-Z]+): (.+)$`)
	specHeaderRow = "| ID | Level | Shapes | Modes | Status | Requirement | Source |"
)

// ParseRequirements reads the requirement tables of a SPEC.md. It is strict:
// a malformed row is an error naming its line, because a silently dropped
// requirement would be a requirement nobody checks.
func ParseRequirements(md []byte) ([]Requirement, error) {
	var out []Requirement
	seen := map[string]int{}
	area, areaTitle := "", ""
	inTable := false
	sc := bufio.NewScanner(bytes.NewReader(md))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if m := areaHeading.FindStringSubmatch(text); m != nil {
			area, areaTitle, inTable = m[1], m[2], false
			continue
		}
		if strings.HasPrefix(text, "## ") {
			area, inTable = "", false
			continue
		}
		if text == specHeaderRow {
			if area == "" {
				return nil, fmt.Errorf("SPEC.md:%d: requirement table outside an '## AREA: title' section", line)
			}
			inTable = true
			continue
		}
		if !inTable {
			continue
		}
		if !strings.HasPrefix(text, "|") {
			inTable = false
			continue
		}
		if strings.HasPrefix(text, "|---") {
			continue
		}
		cells := strings.Split(strings.Trim(text, "|"), "|")
		if len(cells) != 7 {
			return nil, fmt.Errorf("SPEC.md:%d: want 7 cells, got %d", line, len(cells))
		}
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		r := Requirement{
			ID: cells[0], Area: area, AreaTitle: areaTitle, Level: cells[1],
			Shapes: strings.Split(cells[2], ","), Modes: strings.Split(cells[3], ","),
			Status: cells[4], Text: cells[5], Source: cells[6], lineInSpecs: line,
		}
		if !idPattern.MatchString(r.ID) || !strings.HasPrefix(r.ID, area+"-") {
			return nil, fmt.Errorf("SPEC.md:%d: ID %q must look like %s-N", line, r.ID, area)
		}
		if prev, dup := seen[r.ID]; dup {
			return nil, fmt.Errorf("SPEC.md:%d: ID %s already defined on line %d", line, r.ID, prev)
		}
		seen[r.ID] = line
		switch r.Level {
		case "MUST", "SHOULD", "RETIRED":
		default:
			return nil, fmt.Errorf("SPEC.md:%d: %s: level %q is not MUST, SHOULD or RETIRED", line, r.ID, r.Level)
		}
		if r.Status != "checked" && r.Status != "retired" && !strings.HasPrefix(r.Status, "planned #") {
			return nil, fmt.Errorf("SPEC.md:%d: %s: status %q is not 'checked', 'planned #N' or 'retired'", line, r.ID, r.Status)
		}
		if (r.Status == "retired") != (r.Level == "RETIRED") {
			return nil, fmt.Errorf("SPEC.md:%d: %s: level RETIRED goes with status retired, and only with it", line, r.ID)
		}
		if r.Text == "" || r.Source == "" {
			return nil, fmt.Errorf("SPEC.md:%d: %s: requirement and source must not be empty", line, r.ID)
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("SPEC.md: no requirement tables found")
	}
	return out, nil
}

var (
	requirementsOnce sync.Once
	requirements     []Requirement
	requirementsByID map[string]Requirement
	requirementsErr  error
)

// Requirements returns the requirements of the SPEC.md shipped with the kit.
func Requirements() ([]Requirement, error) {
	requirementsOnce.Do(func() {
		requirements, requirementsErr = ParseRequirements(adapterconformance.SpecMarkdown)
		requirementsByID = map[string]Requirement{}
		for _, r := range requirements {
			requirementsByID[r.ID] = r
		}
	})
	return requirements, requirementsErr
}

// RequirementByID looks a requirement up.
func RequirementByID(id string) (Requirement, bool) {
	if _, err := Requirements(); err != nil {
		return Requirement{}, false
	}
	r, ok := requirementsByID[id]
	return r, ok
}
