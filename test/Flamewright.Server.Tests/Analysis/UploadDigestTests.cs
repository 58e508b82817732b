using System.Text.Json.Nodes;
using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Digest;
using Flamewright.Server.Configuration;

namespace Flamewright.Server.Tests.Analysis;

/// <summary>
/// Each upload is stored with its digest and analyses read the digest, not the profile; a digest that is missing,
/// damaged or of another format version is made again from the profile, never served; the profile itself is never
/// touched (docs/digest.md).
/// </summary>
public sealed class UploadDigestTests
{
    private const string Analysis = "Flamewright.Server.Analysis.AnalysisService";

    /// <summary>
    /// The digest made as the upload is received, and no default view built after it: the analysis under test is the
    /// first to read the upload.
    /// </summary>
    private static readonly Dictionary<string, string> NothingAhead = new()
    {
        [nameof(ServerOptions.PrecomputeDefaultView)] = "false",
        [nameof(ServerOptions.DigestOnReceive)] = "true",
    };

    [Fact(Timeout = Spec.Timeout)]
    public Task An_analysis_reads_the_uploads_digest_and_not_its_profile() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(NothingAhead);
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        byte[] profile = TestData.Bytes("cpu");
        string taskId = await graphql.TaskWithUploadsAsync("CPU", (agent, profile));
        Assert.NotNull(ProfileDigest.Read(await DigestAsync(server, taskId)));

        // Behind the server's back, the stored profile becomes bytes no decoder reads.
        await server.DatabaseAsync("UPDATE uploads SET profile = X'00010203'");

        Assert.Equal(Engine.Total(profile, "cpu"), await graphql.AnalyzedTotalAsync(taskId));
    });

    [Theory(Timeout = Spec.Timeout)]
    [InlineData("HEAP", "heap", "inuse_space", "checksum")]
    [InlineData("GOROUTINE", "goroutine", "goroutine", "format version")]
    public Task A_damaged_digest_or_one_of_another_format_version_is_not_served_but_made_again_from_the_profile(
        string pprofEvent, string profileName, string sampleType, string reason) => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(NothingAhead);
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        byte[] profile = TestData.Bytes(profileName);
        string taskId = await graphql.TaskWithUploadsAsync(pprofEvent, (agent, profile));
        byte[] digest = await DigestAsync(server, taskId);
        if (reason == "checksum")
        {
            digest[digest.Length / 2] ^= 0x5A;
        }
        else
        {
            digest[4] = ProfileDigest.FormatVersion + 1;
        }

        await server.DatabaseAsync("UPDATE uploads SET digest = @p", digest);

        long total = await graphql.AnalyzedTotalAsync(taskId);

        Assert.Equal(Engine.Total(profile, sampleType), total);
        Assert.Contains(server.Logs.Entries, e => e.Category == Analysis && e.Event.Id == 503 && e.Message.Contains(reason, StringComparison.Ordinal));
        // Stored in the background, once the answer is on its way.
        await server.Logs.WaitForAsync(Analysis, 504, TimeSpan.FromSeconds(30));
        byte[] remade = await DigestAsync(server, taskId);
        Assert.Equal(ProfileDigest.FormatVersion, remade[4]);
        Assert.Equal(Engine.Tree(new FlameOptions { SampleType = sampleType }, profile).Count,
            FlameTreeBuilder.Build(ProfileDigest.Read(remade), new FlameOptions { SampleType = sampleType }).Count);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task By_default_an_upload_is_stored_without_a_digest_and_the_first_analysis_makes_and_stores_one() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(new Dictionary<string, string> { [nameof(ServerOptions.PrecomputeDefaultView)] = "false" });
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        byte[] profile = TestData.Bytes("cpu");
        string taskId = await graphql.TaskWithUploadsAsync("CPU", (agent, profile));
        Assert.Empty(await DigestAsync(server, taskId));

        long first = await graphql.AnalyzedTotalAsync(taskId);

        Assert.Equal(Engine.Total(profile, "cpu"), first);
        // Stored in the background, once the answer is on its way.
        await server.Logs.WaitForAsync(Analysis, 504, TimeSpan.FromSeconds(30));
        byte[] made = await DigestAsync(server, taskId);
        FlameTree expected = Engine.Tree(new FlameOptions { SampleType = "cpu" }, profile);
        Assert.Equal(expected.Count, FlameTreeBuilder.Build(ProfileDigest.Read(made), new FlameOptions { SampleType = "cpu" }).Count);
        Assert.Equal(profile, await ProfileBytesAsync(server, taskId));
    });

    [Theory(Timeout = Spec.Timeout)]
    [InlineData(0, true)]
    [InlineData(1, false)]
    public Task An_upload_of_at_least_DigestOnReceiveStacks_stacks_is_stored_with_its_digest_and_a_smaller_one_without(int above, bool digested) => Spec.Run(async () =>
    {
        byte[] profile = TestData.Bytes("cpu");
        int stacks = Flamewright.Pprof.ProfileReader.Read(profile).StackCount;
        await using TestServer server = await TestServer.StartAsync(new Dictionary<string, string>
        {
            [nameof(ServerOptions.PrecomputeDefaultView)] = "false",
            [nameof(ServerOptions.DigestOnReceiveStacks)] = (stacks + above).ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();

        string taskId = await graphql.TaskWithUploadsAsync("CPU", (agent, profile));

        byte[] digest = await DigestAsync(server, taskId);
        Assert.Equal(digested, digest.Length > 0);
        if (digested)
        {
            Assert.Equal(Engine.Tree(new FlameOptions { SampleType = "cpu" }, profile).Count,
                FlameTreeBuilder.Build(ProfileDigest.Read(digest), new FlameOptions { SampleType = "cpu" }).Count);
        }

        Assert.Equal(profile, await ProfileBytesAsync(server, taskId));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_first_look_reads_the_stacks_of_the_digests_it_finds_beside_the_profiles_of_uploads_without_one() => Spec.Run(async () =>
    {
        byte[] cpu = TestData.Bytes("cpu");
        await using TestServer server = await TestServer.StartAsync(new Dictionary<string, string>
        {
            [nameof(ServerOptions.PrecomputeDefaultView)] = "false",
            [nameof(ServerOptions.DigestOnReceiveStacks)] = "1",
        });
        using GoLikeAgent first = server.Agent("go-service", "provider1");
        using GoLikeAgent second = server.Agent("go-service", "provider2");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskWithUploadsAsync("CPU", (first, cpu), (second, cpu));
        // One upload keeps only its digest (its profile could not be decoded), the other only its profile.
        await server.DatabaseAsync($"UPDATE uploads SET profile = X'00' WHERE task_id = @p AND instance_id = '{first.InstanceId}'", taskId);
        await server.DatabaseAsync($"UPDATE uploads SET digest = NULL WHERE task_id = @p AND instance_id = '{second.InstanceId}'", taskId);

        JsonNode look = await graphql.DataAsync(
            "query ($r: PprofAnalyzationRequest!) { queryPprofFlameView(request: $r, width: 300) { frames { name total } } queryPprofTop(request: $r, limit: 5) { rows { name flat cum } } }",
            new { r = new { taskId, instanceIds = Array.Empty<string>() } });

        Flamewright.Pprof.Model.Profile profile = Flamewright.Pprof.ProfileReader.Read(cpu);
        var options = new FlameOptions { SampleType = "cpu" };
        FlameTree twice = FlameTreeBuilder.Build([profile, profile], options);
        Assert.Equal(FlameView.Build(twice, [], 300).Frames.Select(f => (f.Name, f.Total)),
            look["queryPprofFlameView"]!["frames"]!.AsArray().Select(f => ((string)f!["name"]!, (long)f["total"]!)));
        Assert.Equal(TopTable.Build(twice).Entries.Take(5).Select(e => (e.Name, e.Flat, e.Cum)),
            look["queryPprofTop"]!["rows"]!.AsArray().Select(r => ((string)r!["name"]!, (long)r["flat"]!, (long)r["cum"]!)));
    });

    /// <summary>The stored digest of the task's only upload; empty when it has none.</summary>
    private static async Task<byte[]> DigestAsync(TestServer server, string taskId) =>
        await server.DatabaseAsync("SELECT digest FROM uploads WHERE task_id = @p", taskId) as byte[] ?? [];

    private static async Task<byte[]> ProfileBytesAsync(TestServer server, string taskId) =>
        (byte[])(await server.DatabaseAsync("SELECT profile FROM uploads WHERE task_id = @p", taskId))!;
}
