using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Flamewright.Pprof;
using Flamewright.Protocol.Pprof;
using Flamewright.Server.Configuration;
using Flamewright.Server.Tests.Support;
using Grpc.Core;

namespace Flamewright.Server.Tests.Receiver;

/// <summary>
/// The upload door for the hostile profiles of <see cref="HostileProfiles"/>, sent by an agent over real gRPC to a
/// server with its default settings: a refused one is an EXECUTION_TASK_ERROR with the parser's reason and
/// stores nothing; a handled one is stored, analysed and downloaded like any other; the server serves on.
/// </summary>
[Collection(HostileDoorsRunAlone.Name)]
public sealed class HostileUploadTests
{
    /// <summary>
    /// The longest one upload of a hostile profile may take, answer included: reading one takes at most a few
    /// seconds on a loaded machine (HostileProfileTests), so a minute means the server is stuck on it.
    /// </summary>
    private static readonly TimeSpan UploadTimeBound = TimeSpan.FromSeconds(60);

    /// <summary>Milliseconds a case may take: a server start, a million samples analysed and exported three ways.</summary>
    private const int HeavyTimeout = 180_000;

    private static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);

    public static TheoryData<string> RefusedCases => [.. HostileProfiles.Names(HostileOutcome.Refused)];

    public static TheoryData<string> HandledCases => [.. HostileProfiles.Names(HostileOutcome.Handled)];

    [Theory(Timeout = HeavyTimeout)]
    [MemberData(nameof(RefusedCases))]
    public Task A_refused_one_is_an_EXECUTION_TASK_ERROR_with_the_parsers_reason_and_leaves_nothing_stored(string name) => Spec.Run(async () =>
    {
        HostileProfile hostile = HostileProfiles.Get(name);
        string reason = Assert.Throws<PprofFormatException>(() => ProfileReader.Read(hostile.Bytes)).Message;
        Assert.Contains(hostile.Reason!, reason);
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("CPU", agent);

        var clock = Stopwatch.StartNew();
        RpcException refused = await Assert.ThrowsAsync<RpcException>(() => agent.UploadAsync(taskId, hostile.Bytes));
        clock.Stop();

        Assert.True(clock.Elapsed < UploadTimeBound, $"took {clock.Elapsed}");
        Assert.Equal((StatusCode.InvalidArgument, $"the profile does not parse: {reason}"), (refused.StatusCode, refused.Status.Detail));
        JsonNode progress = await graphql.ProgressAsync(taskId);
        JsonNode log = progress["logs"]!.AsArray().Last()!;
        Assert.Equal(("EXECUTION_TASK_ERROR", $"the uploaded profile does not parse: {reason}"), ((string)log["operationType"]!, (string?)log["message"]));
        Assert.Equal(("FAILED", $"the uploaded profile does not parse: {reason}"), ((string)progress["instances"]![0]!["state"]!, (string?)progress["instances"]![0]!["reason"]));
        await graphql.AssertNothingStoredAndStillServingAsync(agent, taskId);
    });

    [Theory(Timeout = HeavyTimeout)]
    [MemberData(nameof(HandledCases))]
    public Task A_handled_one_is_stored_analysed_and_downloaded_with_its_total_and_names(string name) => Spec.Run(async () =>
    {
        HostileProfile hostile = HostileProfiles.Get(name);
        byte[] bytes = hostile.Bytes;
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("CPU", agent);

        var clock = Stopwatch.StartNew();
        PprofProfilingStatus answer = await agent.UploadAsync(taskId, bytes);
        clock.Stop();

        Assert.True(clock.Elapsed < UploadTimeBound, $"took {clock.Elapsed}");
        Assert.Equal(PprofProfilingStatus.PprofProfilingSuccess, answer);
        JsonNode upload = Assert.Single(await graphql.UploadsAsync(taskId))!;
        Assert.Equal(hostile.SampleCount, (int)upload["sampleCount"]!);
        Assert.Equal(hostile.PlainLength, (long)upload["decompressedBytes"]!);
        Assert.Equal(["NOTIFIED", "EXECUTION_FINISHED"], await graphql.OperationsAsync(taskId));

        (JsonArray elements, _) = await graphql.AnalyzeAsync(new { taskId, instanceIds = Array.Empty<string>() });
        Assert.Equal(hostile.Total, (long)elements[0]!["total"]!);
        string[] signatures = [.. elements.Select(e => (string)e!["codeSignature"]!)];
        // A tree past MaxAnalysisElements (the 100,000 functions of colliding ids and one root) comes as its
        // heaviest frames; the folded download below holds every name.
        Assert.InRange(elements.Count, 1, new ServerOptions().MaxAnalysisElements);
        Assert.All(elements.Count < new ServerOptions().MaxAnalysisElements ? hostile.Names : [], n => Assert.Contains(n, signatures));

        string svg = await DownloadAsync(graphql, taskId, "svg", "image/svg+xml");
        HostileProfiles.CheckSvgShowsNamesOnlyAsText(svg, hostile.HostileText ? hostile.Names : []);
        string folded = await DownloadAsync(graphql, taskId, "folded", "text/plain");
        Assert.All(hostile.Names, n => Assert.Contains(n, folded));
        string json = await DownloadAsync(graphql, taskId, "json", "application/json");
        using (JsonDocument tree = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 4 * HostileProfiles.DeepFrames }))
        {
            Assert.Equal(hostile.Total, tree.RootElement.GetProperty("total").GetInt64());
        }

        // The pprof download is the profile again, as the engine reads it.
        using HttpResponseMessage pprof = await graphql.Http.GetAsync($"/api/tasks/{taskId}/profile?format=pprof");
        Assert.Equal(HttpStatusCode.OK, pprof.StatusCode);
        Pprof.Model.Profile again = ProfileReader.Read(await pprof.Content.ReadAsByteArrayAsync());
        Assert.Equal((hostile.SampleCount, hostile.Total), (again.SampleCount, again.Total(again.DefaultSampleTypeIndex)));
    });

    /// <summary>A REST download that must succeed, as strict UTF-8: invalid bytes in a profile must not reach the output.</summary>
    private static async Task<string> DownloadAsync(GraphQLClient graphql, string taskId, string format, string contentType)
    {
        using HttpResponseMessage response = await graphql.Http.GetAsync($"/api/tasks/{taskId}/profile?format={format}");
        byte[] body = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{format}: {(int)response.StatusCode} {Encoding.UTF8.GetString(body)}");
        Assert.Equal(contentType, response.Content.Headers.ContentType!.MediaType);
        return StrictUtf8.GetString(body);
    }
}
