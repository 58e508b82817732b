using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Flamewright.Pprof.Export;
using Flamewright.Pprof.Model;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;
using ValueType = Flamewright.Pprof.Model.ValueType;

namespace Flamewright.Server.Tests.Security;

/// <summary>
/// GraphQL documents and filter patterns built to burn the server's CPU: each is refused, or runs, in a fraction of
/// the time the same request took before these bounds (docs/security.md, "Findings"), and nothing is left running.
/// Without the bounds, the fragment bomb and the regular expressions run past the test's timeout.
/// </summary>
public sealed class HostileQueryTests(ITestOutputHelper output)
{
    [Fact(Timeout = Spec.Timeout)]
    public Task A_fragment_bomb_of_29_levels_is_refused_at_once_by_the_expansion_budget() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GraphQLClient graphql = server.GraphQL();
        var document = new StringBuilder("query { getTimeInfo { ...F29 } } fragment F0 on TimeInfo { timezone } ");
        for (int i = 1; i <= 29; i++)
        {
            document.Append($"fragment F{i} on TimeInfo {{ ...F{i - 1} ...F{i - 1} }} ");
        }

        // A first query builds the schema and compiles the endpoint, so that the time printed is the refusal's.
        await graphql.DataAsync("{ getTimeInfo { timezone } }");
        var clock = Stopwatch.StartNew();
        string refused = await graphql.ErrorAsync(document.ToString());
        output.WriteLine($"{document.Length} bytes refused in {clock.Elapsed.TotalMilliseconds:0.0} ms");

        Assert.Equal("the query expands to more than 2000 selections once its fragments are spread (GraphQLMaxExpandedFields)", refused);
        Assert.True(document.Length < 1400, $"{document.Length} bytes");
        Assert.Single(server.Logs.Entries, e => e.Level == LogLevel.Warning && e.Message.StartsWith("Refused a GraphQL document from", StringComparison.Ordinal));
        Assert.NotNull((await graphql.DataAsync("{ getTimeInfo { timezone } }"))["getTimeInfo"]!["timezone"]);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Twenty_thousand_copies_of_one_field_are_refused_by_the_written_budget() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GraphQLClient graphql = server.GraphQL();
        string document = "{ " + string.Concat(Enumerable.Repeat("getTimeInfo { timezone } ", 20_000)) + "}";
        await graphql.DataAsync("{ getTimeInfo { timezone } }");

        var clock = Stopwatch.StartNew();
        string refused = await graphql.ErrorAsync(document);
        output.WriteLine($"{document.Length} bytes refused in {clock.Elapsed.TotalMilliseconds:0.0} ms");

        Assert.Equal("the query has 40000 selections (fields, fragment spreads and inline fragments); at most 1000 are accepted (GraphQLMaxFields)", refused);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_fragment_that_spreads_itself_is_refused_without_looping() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GraphQLClient graphql = server.GraphQL();

        string refused = await graphql.ErrorAsync("query { getTimeInfo { ...A } } fragment A on TimeInfo { timezone ...B } fragment B on TimeInfo { ...A }");

        Assert.Equal("fragment 'A' spreads itself", refused);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_document_nested_a_hundred_thousand_levels_gets_one_line_and_one_warning_without_a_stack() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GraphQLClient graphql = server.GraphQL();
        string document = "{ listLayers " + string.Concat(Enumerable.Repeat("{ a ", 100_000)) + new string('}', 100_001);

        string refused = await graphql.ErrorAsync(document);
        string syntax = await graphql.ErrorAsync("{ listLayers ");

        Assert.Equal("the query nests deeper than the parser accepts (96 levels, from GraphQLMaxDepth)", refused);
        Assert.StartsWith("the query is not valid GraphQL: ", syntax);
        var refusals = server.Logs.Entries.Where(e => e.Message.StartsWith("Refused a GraphQL document", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, refusals.Count);
        Assert.All(refusals, e => Assert.Equal((LogLevel.Warning, (Exception?)null), (e.Level, e.Exception)));
        Assert.Empty(server.Logs.Errors);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_standard_introspection_query_and_the_UIs_heaviest_page_fit_the_budgets() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GraphQLClient graphql = server.GraphQL();

        JsonNode introspection = await graphql.PostAsync(IntrospectionQuery);

        Assert.Null(introspection["errors"]);
        Assert.NotEmpty(introspection["data"]!["__schema"]!["types"]!.AsArray());
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Two_requests_with_a_catastrophic_focus_pattern_finish_quickly_and_leave_the_analysis_turns_free() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskWithUploadsAsync("CPU", (agent, ManyLongNames(2_000)));
        const string Top = "query ($r: PprofAnalyzationRequest!) { queryPprofTop(request: $r) { rows { name flat } } }";
        object Request(string focus) => new { r = new { taskId, instanceIds = Array.Empty<string>(), focus } };

        var clock = Stopwatch.StartNew();
        JsonNode[] answers = await Task.WhenAll(graphql.PostAsync(Top, Request("(.*a){5}!x")), graphql.PostAsync(Top, Request("(.*a){5}!x")));
        output.WriteLine($"two analyses of 2,000 names with (.*a){{5}}!x in {clock.Elapsed.TotalMilliseconds:0} ms");
        JsonNode other = await graphql.DataAsync(Top, Request("Func1$"));

        Assert.All(answers, a => Assert.Null(a["errors"]));
        Assert.All(answers, a => Assert.Empty(a["data"]!["queryPprofTop"]!["rows"]!.AsArray()));
        Assert.NotEmpty(other["queryPprofTop"]!["rows"]!.AsArray());
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_pattern_with_a_backreference_is_refused_as_go_refuses_it() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskWithUploadsAsync("CPU", (agent, ManyLongNames(10)));

        string refused = await graphql.ErrorAsync(
            "query ($r: PprofAnalyzationRequest!) { queryPprofTop(request: $r) { rows { name } } }",
            new { r = new { taskId, instanceIds = Array.Empty<string>(), focus = @"(a)\1" } });

        Assert.StartsWith("focus: this regular expression is not supported (Go's regular expressions have no backreferences", refused);
    });

    /// <summary>A CPU profile of <paramref name="functions"/> one-frame stacks whose long names are full of 'a'.</summary>
    internal static byte[] ManyLongNames(int functions)
    {
        var builder = new ProfileBuilder([new ValueType("samples", "count"), new ValueType("cpu", "nanoseconds")]);
        for (int f = 0; f < functions; f++)
        {
            string name = $"example.com/{new string('a', 30)}/{new string('a', 30)}.Func{f}";
            int location = builder.AddLocation([new Line(builder.AddFunction(name, name, $"/src/{new string('a', 20)}.go"), f + 1, 0)]);
            builder.AddSample([location], [1, 10_000_000]);
        }

        using var bytes = new MemoryStream();
        ProfileWriter.Write(builder.Build(), bytes);
        return bytes.ToArray();
    }

    /// <summary>GraphQL's standard introspection query, as GraphiQL and most clients send it.</summary>
    private const string IntrospectionQuery = """
        query IntrospectionQuery {
          __schema {
            queryType { name } mutationType { name } subscriptionType { name }
            types { ...FullType }
            directives { name description locations args { ...InputValue } }
          }
        }
        fragment FullType on __Type {
          kind name description
          fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
          inputFields { ...InputValue }
          interfaces { ...TypeRef }
          enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
          possibleTypes { ...TypeRef }
        }
        fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
        fragment TypeRef on __Type {
          kind name
          ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
        }
        """;
}
