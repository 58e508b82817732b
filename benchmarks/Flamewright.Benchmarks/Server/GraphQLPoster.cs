using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Flamewright.Benchmarks.Server;

/// <summary>Posts GraphQL documents to <c>/graphql</c>, as the SkyWalking UI and swctl do.</summary>
internal sealed class GraphQLPoster(Uri server) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = server, Timeout = TimeSpan.FromMinutes(10) };

    /// <summary>The <c>data</c> of a request that must succeed.</summary>
    public async Task<JsonNode> DataAsync(string query, object? variables = null)
    {
        (byte[] body, _) = await TimedPostAsync(query, variables);
        return Data(body);
    }

    /// <summary>Sends the request and reads the whole response body: the time a client waits for its answer.</summary>
    public async Task<(byte[] Body, TimeSpan Elapsed)> TimedPostAsync(string query, object? variables = null)
    {
        (byte[] body, TimeSpan elapsed, _) = await TimedPostWithServerTimingAsync(query, variables);
        return (body, elapsed);
    }

    /// <summary>As <see cref="TimedPostAsync"/>, with the answer's <c>Server-Timing</c> header (the server's phases, docs/server.md).</summary>
    public async Task<(byte[] Body, TimeSpan Elapsed, string ServerTiming)> TimedPostWithServerTimingAsync(string query, object? variables = null)
    {
        var clock = Stopwatch.StartNew();
        using HttpResponseMessage response = await _http.PostAsJsonAsync("/graphql", new { query, variables });
        byte[] body = await response.Content.ReadAsByteArrayAsync();
        TimeSpan elapsed = clock.Elapsed;
        response.EnsureSuccessStatusCode();
        return (body, elapsed, response.Headers.TryGetValues("Server-Timing", out IEnumerable<string>? timing) ? string.Join(", ", timing) : "");
    }

    /// <summary>The phases of a <c>Server-Timing</c> header in milliseconds: <c>execute;dur=12.5, build;dur=3</c>.</summary>
    public static IEnumerable<(string Phase, double Milliseconds)> Phases(string serverTiming)
    {
        foreach (string entry in serverTiming.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int dur = entry.IndexOf(";dur=", StringComparison.Ordinal);
            if (dur > 0 && double.TryParse(entry.AsSpan(dur + 5), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double ms))
            {
                yield return (entry[..dur], ms);
            }
        }
    }

    /// <summary>The <c>data</c> of a response; throws with the first error when there is one.</summary>
    public static JsonNode Data(byte[] body)
    {
        JsonNode response = JsonNode.Parse(body) ?? throw new InvalidOperationException("empty GraphQL response");
        if (response["errors"] is JsonArray { Count: > 0 } errors)
        {
            throw new InvalidOperationException("GraphQL error: " + errors[0]!.ToJsonString());
        }

        return response["data"]!;
    }

    /// <summary>Throws with the first error of a response when there is one; reads it without building JSON nodes.</summary>
    public static JsonNode? CheckNoErrors(byte[] body)
    {
        using var response = System.Text.Json.JsonDocument.Parse(body);
        if (response.RootElement.TryGetProperty("errors", out System.Text.Json.JsonElement errors) && errors.GetArrayLength() > 0)
        {
            throw new InvalidOperationException("GraphQL error: " + errors[0].GetRawText());
        }

        return null;
    }

    /// <summary>Creates a task; throws unless the answer is SUCCESS.</summary>
    public async Task<string> CreateTaskAsync(string serviceId, IReadOnlyList<string> instanceIds, string events, int? duration = null)
    {
        JsonNode result = (await DataAsync(
            "mutation ($r: PprofTaskCreationRequest!) { createPprofTask(pprofTaskCreationRequest: $r) { code errorReason id } }",
            new { r = new { serviceId, serviceInstanceIds = instanceIds, events, duration } }))["createPprofTask"]!;
        return (string?)result["code"] == "SUCCESS"
            ? (string)result["id"]!
            : throw new InvalidOperationException($"task creation failed: {result.ToJsonString()}");
    }

    /// <summary>How many instances of a task have a stored, parsed upload.</summary>
    public async Task<int> SucceededInstancesAsync(string taskId) =>
        (await DataAsync("query ($id: String!) { queryPprofTaskProgress(taskId: $id) { successInstanceIds } }", new { id = taskId }))
            ["queryPprofTaskProgress"]!["successInstanceIds"]!.AsArray().Count;

    public void Dispose() => _http.Dispose();
}
