package obligation

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// PackError reports a problem at one line of a YAML file.
type PackError struct {
	// File is the file name.
	File string
	// Line is the 1-based line number; 0 when it concerns the whole file.
	Line int
	// Msg describes the problem.
	Msg string
}

// Error returns "file:line: message".
func (e *PackError) Error() string {
	if e.Line == 0 {
		return e.File + ": " + e.Msg
	}
	return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Msg
}

// lineError is a problem at a line of a YAML document whose file name is
// not known where it is detected.
type lineError struct {
	line int
	msg  string
}

// checkKeys appends a lineError for every mapping key in n that does not
// name a yaml-tagged field of the struct type t, descending into nested
// structs, slices, maps and pointers. yaml's Decoder.KnownFields does the
// same for whole documents but not inside custom unmarshalers; this check
// covers both and names the keys that are allowed.
//
// Aliases are not followed: an alias may refer to its own ancestor, and
// repeated aliases can make a small document exponentially large. The yaml
// decoder that runs afterwards bounds both and checks keys again.
func checkKeys(n *yaml.Node, t reflect.Type, errs *[]lineError) {
	if n == nil || n.Kind == yaml.AliasNode {
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			ft, ok := fields[k.Value]
			if !ok {
				names := make([]string, 0, len(fields))
				for name := range fields {
					names = append(names, name)
				}
				slices.Sort(names)
				*errs = append(*errs, lineError{k.Line, fmt.Sprintf("unknown key %q (allowed: %s)", k.Value, strings.Join(names, ", "))})
				continue
			}
			checkKeys(v, ft, errs)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return
		}
		for _, c := range n.Content {
			checkKeys(c, t.Elem(), errs)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 1; i < len(n.Content); i += 2 {
			checkKeys(n.Content[i], t.Elem(), errs)
		}
	}
}

// yamlFields maps the yaml key of every field of struct type t to its type.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	m := make(map[string]reflect.Type, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		m[name] = f.Type
	}
	return m
}

// decodeNode decodes n into out (a pointer to a raw struct) after checking
// its keys, and returns the problems as lineErrors.
func decodeNode(n *yaml.Node, out any) []lineError {
	var errs []lineError
	checkKeys(n, reflect.TypeOf(out), &errs)
	if len(errs) > 0 {
		return errs
	}
	if err := n.Decode(out); err != nil {
		return yamlLineErrors(err)
	}
	return nil
}

// yamlLineRE matches the "line N: " prefix of yaml's error messages.
var yamlLineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlLineErrors turns an error of the yaml package into lineErrors, one per
// problem, keeping the line numbers yaml reports.
func yamlLineErrors(err error) []lineError {
	re := yamlLineRE
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	out := make([]lineError, 0, len(msgs))
	for _, m := range msgs {
		if sm := re.FindStringSubmatch(m); sm != nil {
			line, _ := strconv.Atoi(sm[1])
			msg := tidyYAMLMessage(sm[2])
			if strings.HasPrefix(msg, "did not find expected") {
				// yaml reports parser (not scanner) errors with the 0-based
				// line of the enclosing construct; name it 1-based.
				line++
				msg += " (in the mapping or sequence that starts on this line)"
			}
			out = append(out, lineError{line, msg})
			continue
		}
		out = append(out, lineError{0, strings.TrimPrefix(m, "yaml: ")})
	}
	return out
}

// tidyYAMLMessage rewrites yaml's Go-centric messages for pack authors.
func tidyYAMLMessage(m string) string {
	if f, rest, ok := strings.Cut(m, "field "); ok && f == "" {
		if name, _, ok := strings.Cut(rest, " not found in type"); ok {
			return fmt.Sprintf("unknown key %q", name)
		}
	}
	for _, tn := range []string{"obligation.raw", "obligation."} {
		m = strings.ReplaceAll(m, tn, "")
	}
	return m
}

// typeError packs lineErrors into the error type the yaml package collects
// from custom unmarshalers, so that they are reported with its own errors.
func typeError(errs []lineError) error {
	te := &yaml.TypeError{}
	for _, e := range errs {
		if e.line > 0 {
			te.Errors = append(te.Errors, fmt.Sprintf("line %d: %s", e.line, e.msg))
		} else {
			te.Errors = append(te.Errors, e.msg)
		}
	}
	return te
}

// lineOf returns the line of the node at path (mapping keys and sequence
// indexes) below root, or of its deepest existing ancestor.
func lineOf(root *yaml.Node, path []any) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, p := range path {
		for n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
		}
		switch key := p.(type) {
		case string:
			if n.Kind != yaml.MappingNode {
				return line
			}
			var next *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == key {
					next = n.Content[i+1]
					break
				}
			}
			if next == nil {
				return line
			}
			n = next
		case int:
			if n.Kind != yaml.SequenceNode || key < 0 || key >= len(n.Content) {
				return line
			}
			n = n.Content[key]
		}
		line = n.Line
	}
	return line
}
