package console

import "time"

// Step is one stage of the call script from the seed (see DESIGN.md, "The call
// script"). Its texts are in the catalogue: console.script.<Key>.title (what the agent
// does), .phrase (what the agent may say, in the citizen's language, with the names
// filled in) and .hint (guidance for the agent).
type Step struct {
	Number int
	Key    string
	// Phrases are the catalogue keys of the suggested phrases, in order; empty when
	// the step has none (consulting and informing is the agent's own).
	Phrases []string
	// Identity marks the step where the authentication level and the person are
	// recorded.
	Identity bool
}

// Script is the call script, stages 1 to 8.
var Script = []Step{
	{Number: 1, Key: "greeting", Phrases: []string{"console.script.greeting.phrase"}},
	{Number: 2, Key: "recording", Phrases: []string{"console.script.recording.phrase", "console.script.recording.help"}},
	{Number: 3, Key: "reason", Phrases: []string{"console.script.reason.phrase"}},
	{Number: 4, Key: "identity", Phrases: []string{"console.script.identity.phrase_none", "console.script.identity.phrase_auth"}, Identity: true},
	{Number: 5, Key: "inform"},
	{Number: 6, Key: "other", Phrases: []string{"console.script.other.phrase"}},
	{Number: 7, Key: "appointments", Phrases: []string{"console.script.appointments.phrase"}},
	{Number: 8, Key: "farewell", Phrases: []string{"console.script.farewell.phrase"}},
}

// GreetingKey is the catalogue key of the greeting for the local time t: good
// morning until 13:00, good afternoon until 20:00, good evening after.
func GreetingKey(t time.Time) string {
	switch h := t.Hour(); {
	case h >= 6 && h < 13:
		return "console.script.morning"
	case h >= 13 && h < 20:
		return "console.script.afternoon"
	}
	return "console.script.evening"
}

// PhraseArgs are the values a phrase is filled with: the greeting (stage 1), the
// agent's name (stage 1) and the citizen's name (the rest); each phrase uses the ones it
// needs with explicit indexes (%[1]s greeting, %[2]s agent, %[3]s citizen).
func PhraseArgs(greeting, agentName, citizenName string) []any {
	return []any{greeting, agentName, citizenName}
}
