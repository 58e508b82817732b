using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Flamewright.Testing;

/// <summary>
/// Posts GraphQL documents to the server as the SkyWalking UI and swctl do. Every answer a test reads through
/// <see cref="DataAsync"/> is first checked against the schema the server reports (<see cref="SchemaConformance"/>).
/// </summary>
internal sealed class GraphQLClient(Uri server, TimeSpan? timeout = null) : IDisposable
{
    /// <summary>A client of the server at <paramref name="server"/> (<c>http://127.0.0.1:PORT</c>), as a server process gives it.</summary>
    public GraphQLClient(string server)
        : this(new Uri(server))
    {
    }

    /// <summary>Every field of an analysis element, as the UI asks for them.</summary>
    public const string ElementFields = "id parentId codeSignature total self";

    /// <summary>Every field of <c>Service</c> the wire doc lists.</summary>
    public const string ServiceFields = "id name group shortName layers";

    /// <summary>Every field of <c>ServiceInstance</c>.</summary>
    public const string InstanceFields = "id name attributes { name value } language instanceUUID layer";

    private readonly HttpClient _http = new() { BaseAddress = server, Timeout = timeout ?? TimeSpan.FromSeconds(60) };
    private SchemaConformance? _schema;

    public HttpClient Http => _http;

    /// <summary>Sends <c>Authorization: Bearer <paramref name="token"/></c> from now on.</summary>
    public GraphQLClient WithToken(string token)
    {
        _http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return this;
    }

    /// <summary>The whole response: <c>data</c> and <c>errors</c>.</summary>
    public async Task<JsonNode> PostAsync(string query, object? variables = null)
    {
        using HttpResponseMessage response = await _http.PostAsJsonAsync("/graphql", new { query, variables });
        string body = await response.Content.ReadAsStringAsync();
        return JsonNode.Parse(body) ?? throw new InvalidOperationException("empty GraphQL response");
    }

    /// <summary>The <c>data</c> of a query that must succeed, checked against the server's schema.</summary>
    public async Task<JsonNode> DataAsync(string query, object? variables = null)
    {
        JsonNode response = await PostAsync(query, variables);
        Expect.That(response["errors"] is null, $"GraphQL errors: {response["errors"]?.ToJsonString()}");
        JsonNode data = response["data"]!;
        (await SchemaAsync()).Check(query, data);
        return data;
    }

    /// <summary>The first error message of a query that must fail.</summary>
    public async Task<string> ErrorAsync(string query, object? variables = null)
    {
        JsonNode response = await PostAsync(query, variables);
        Expect.That(response["errors"] is JsonArray { Count: > 0 }, $"expected a GraphQL error, got {response.ToJsonString()}");
        return (string)response["errors"]![0]!["message"]!;
    }

    /// <summary>The schema as the server reports it by introspection.</summary>
    public async Task<SchemaConformance> SchemaAsync()
    {
        if (_schema is null)
        {
            JsonNode response = await PostAsync(SchemaConformance.IntrospectionQuery);
            Expect.That(response["errors"] is null, $"introspection failed: {response["errors"]?.ToJsonString()}");
            _schema = new SchemaConformance(response["data"]!["__schema"]!);
        }

        return _schema;
    }

    /// <summary>Creates a task and returns its id; fails the test unless the answer is SUCCESS.</summary>
    public async Task<string> CreateTaskAsync(string serviceId, IEnumerable<string> instanceIds, string events, int? duration = null, int? dumpPeriod = null)
    {
        JsonNode result = await CreateTaskResultAsync(serviceId, instanceIds, events, duration, dumpPeriod);
        Expect.That((string?)result["code"] == "SUCCESS", $"task creation failed: {result.ToJsonString()}");
        return (string)result["id"]!;
    }

    public Task<string> CreateTaskAsync(string serviceId, string instanceId, string events, int? duration = null, int? dumpPeriod = null) =>
        CreateTaskAsync(serviceId, [instanceId], events, duration, dumpPeriod);

    /// <summary>Waits until every instance of the task finished or failed; returns the instances' progress.</summary>
    public async Task<JsonArray> WaitAsync(string taskId, TimeSpan timeout)
    {
        DateTime until = DateTime.UtcNow + timeout;
        while (true)
        {
            JsonArray instances = (await ProgressAsync(taskId))["instances"]!.AsArray();
            if (instances.All(i => (string?)i!["state"] is "FINISHED" or "FAILED"))
            {
                return instances;
            }

            Expect.That(DateTime.UtcNow < until, $"task {taskId} still running after {timeout}: {instances.ToJsonString()}");
            await Task.Delay(200);
        }
    }

    /// <summary>The merged pprof of every instance's upload, as the REST download gives it.</summary>
    public async Task<byte[]> DownloadAsync(string taskId) =>
        await _http.GetByteArrayAsync($"/api/tasks/{Uri.EscapeDataString(taskId)}/profile?format=pprof");

    public async Task<JsonNode> CreateTaskResultAsync(string serviceId, IEnumerable<string>? instanceIds, string events, int? duration = null, int? dumpPeriod = null)
    {
        JsonNode data = await DataAsync(
            "mutation ($r: PprofTaskCreationRequest!) { createPprofTask(pprofTaskCreationRequest: $r) { code errorReason id } }",
            new { r = new { serviceId, serviceInstanceIds = instanceIds?.ToArray() ?? [], events, duration, dumpPeriod } });
        return data["createPprofTask"]!;
    }

    public async Task<JsonNode> ProgressAsync(string taskId) =>
        (await DataAsync(
            """
            query ($id: String!) { queryPprofTaskProgress(taskId: $id) {
              logs { id instanceId instanceName operationType operationTime message }
              errorInstanceIds successInstanceIds
              instances { instanceId instanceName state reason since } } }
            """, new { id = taskId }))["queryPprofTaskProgress"]!;

    /// <summary>The operation types of a task's log, oldest first.</summary>
    public async Task<string[]> OperationsAsync(string taskId) =>
        [.. (await ProgressAsync(taskId))["logs"]!.AsArray().Select(l => (string)l!["operationType"]!)];

    /// <summary>The services of a layer, with every field.</summary>
    public async Task<JsonArray> ServicesAsync(string layer) =>
        (await DataAsync($"query ($l: String!) {{ listServices(layer: $l) {{ {ServiceFields} }} }}", new { l = layer }))["listServices"]!.AsArray();

    /// <summary>A service's instances seen within <paramref name="duration"/> (a SkyWalking <c>Duration</c>), with every field.</summary>
    public async Task<JsonArray> InstancesAsync(object duration, string serviceId) =>
        (await DataAsync($"query ($d: Duration!, $s: ID!) {{ listInstances(duration: $d, serviceId: $s) {{ {InstanceFields} }} }}", new { d = duration, s = serviceId }))
            ["listInstances"]!.AsArray();

    /// <summary>An instance with every field, or <c>null</c>.</summary>
    public async Task<JsonNode?> GetInstanceAsync(string instanceId) =>
        (await DataAsync($"query ($i: String!) {{ getInstance(instanceId: $i) {{ {InstanceFields} }} }}", new { i = instanceId }))["getInstance"];

    /// <summary>The newest entry of a task's log.</summary>
    public async Task<JsonNode> LastLogAsync(string taskId) => (await ProgressAsync(taskId))["logs"]!.AsArray().Last()!;

    /// <summary>A service's tasks, newest first, with every field of <c>PprofTask</c>.</summary>
    public async Task<JsonArray> TasksAsync(string serviceId) =>
        (await DataAsync(
            """
            query ($r: PprofTaskListRequest!) { queryPprofTaskList(request: $r) {
              errorReason tasks { id serviceId serviceInstanceIds createTime events duration dumpPeriod dispatchUntil } } }
            """, new { r = new { serviceId } }))["queryPprofTaskList"]!["tasks"]!.AsArray();

    /// <summary>A task's stored uploads.</summary>
    public async Task<JsonArray> UploadsAsync(string taskId) =>
        (await DataAsync(
            "query ($id: ID!) { queryPprofUploads(taskId: $id) { instanceId instanceName uploadTime compressedBytes decompressedBytes sampleCount } }",
            new { id = taskId }))["queryPprofUploads"]!.AsArray();

    /// <summary>
    /// <c>queryPprofAnalyze</c> with a request object (<c>taskId</c>, <c>instanceIds</c> and any extension);
    /// returns the answer's <c>tree.elements</c> and <c>sampleType</c>.
    /// </summary>
    public async Task<(JsonArray Elements, JsonNode? SampleType)> AnalyzeAsync(object request)
    {
        JsonNode answer = (await DataAsync(
            $"query ($r: PprofAnalyzationRequest!) {{ queryPprofAnalyze(request: $r) {{ tree {{ elements {{ {ElementFields} }} }} sampleType {{ index type unit isDefault }} }} }}",
            new { r = request }))["queryPprofAnalyze"]!;
        return (answer["tree"]!["elements"]!.AsArray(), answer["sampleType"]);
    }

    /// <summary>The root's total of <c>queryPprofAnalyze</c> over every uploaded instance.</summary>
    public async Task<long> AnalyzedTotalAsync(string taskId) =>
        (long)(await AnalyzeAsync(new { taskId, instanceIds = Array.Empty<string>() })).Elements[0]!["total"]!;

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
    public static void CheckNoErrors(byte[] body)
    {
        using var response = System.Text.Json.JsonDocument.Parse(body);
        if (response.RootElement.TryGetProperty("errors", out System.Text.Json.JsonElement errors) && errors.GetArrayLength() > 0)
        {
            throw new InvalidOperationException("GraphQL error: " + errors[0].GetRawText());
        }
    }

    /// <summary>How many instances of a task have a stored, parsed upload.</summary>
    public async Task<int> SucceededInstancesAsync(string taskId) =>
        (await DataAsync("query ($id: String!) { queryPprofTaskProgress(taskId: $id) { successInstanceIds } }", new { id = taskId }))
            ["queryPprofTaskProgress"]!["successInstanceIds"]!.AsArray().Count;

    public void Dispose() => _http.Dispose();
}
