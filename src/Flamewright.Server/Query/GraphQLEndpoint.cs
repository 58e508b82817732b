using System.Globalization;
using Flamewright.Server.Analysis;
using Flamewright.Server.Configuration;
using Flamewright.Server.Hosting;
using GraphQL;
using GraphQL.SystemTextJson;
using GraphQL.Types;
using GraphQL.Transport;
using GraphQL.Validation;
using GraphQL.Validation.Complexity;
using GraphQL.Validation.Rules.Custom;
using GraphQLParser;
using GraphQLParser.AST;
using GraphQLParser.Exceptions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Flamewright.Server.Query;

/// <summary>
/// <c>POST /graphql</c> with a <c>{query, variables, operationName}</c> body, answered with GraphQL's
/// <c>{data, errors}</c>. The schema is <c>schema.graphql</c>, embedded; a test compares the schema GraphQL.NET
/// builds from it with the checked-in baseline. The operations and their limits: docs/protocol.md, "HTTP port".
/// </summary>
public static partial class GraphQLEndpoint
{
    /// <summary>Path of the endpoint, as SkyWalking serves it.</summary>
    public const string Path = "/graphql";

    /// <summary>The schema's SDL, as embedded in this assembly.</summary>
    public static string SchemaText
    {
        get
        {
            using Stream stream = typeof(GraphQLEndpoint).Assembly.GetManifestResourceStream("Flamewright.Server.schema.graphql")
                ?? throw new InvalidOperationException("the GraphQL schema is not embedded");
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
    }

    /// <summary>Where the request's <see cref="Pprof.Analysis.MatchBudget"/> is kept in the GraphQL user context.</summary>
    internal const string MatchBudgetKey = "flamewright.matchBudget";

    /// <summary>Query fields that analyse profiles.</summary>
    private static readonly string[] ExpensiveFields = ["queryPprofAnalyze", "queryPprofDiff", "queryPprofTop", "queryPprofFlameView", "queryPprofStackGroups", "queryPprofLabels", "queryPprofSandwich"];

    /// <summary>
    /// The complexity an analysing field counts for; a row-reading field counts 1 (GraphQL.NET's default), and
    /// lists multiply what they hold by 5. The web UI's heaviest request (a tree, a top table and a diff)
    /// counts 947.
    /// </summary>
    public const double AnalysisImpact = 200;

    /// <summary>
    /// GraphQL.NET's complexity model with <see cref="ServerOptions.GraphQLMaxDepth"/> and
    /// <see cref="ServerOptions.GraphQLMaxComplexity"/>, except for introspection: it reads the schema, which is
    /// small and fixed, and its nested lists would otherwise count in the hundreds of thousands. The depth
    /// limit still applies to it.
    /// </summary>
    private static ComplexityOptions Complexity(ServerOptions options)
    {
        var complexity = new ComplexityOptions { MaxDepth = options.GraphQLMaxDepth, MaxComplexity = options.GraphQLMaxComplexity };
        Func<FieldImpactContext, FieldComplexityResult> standard = complexity.DefaultComplexityImpactDelegate;
        complexity.DefaultComplexityImpactDelegate = field =>
            field.FieldDefinition.Name.StartsWith("__", StringComparison.Ordinal) || field.ParentType.Name.StartsWith("__", StringComparison.Ordinal)
                ? new FieldComplexityResult(0, 1)
                : standard(field);
        return complexity;
    }

    internal static IServiceCollection AddGraphQLEndpoint(this IServiceCollection services)
    {
        services.AddSingleton<QueryResolvers>();
        services.AddSingleton<MutationResolvers>();
        services.AddSingleton<IDocumentExecuter, DocumentExecuter>();
        services.AddSingleton<GraphQLSerializer>();
        services.AddSingleton(provider => Complexity(provider.GetRequiredService<ServerOptions>()));
        services.AddSingleton<ISchema>(provider =>
        {
            Schema schema = Schema.For(SchemaText, builder =>
            {
                builder.ServiceProvider = provider;
                builder.Types.Include<QueryResolvers>();
                builder.Types.Include<MutationResolvers>();
            });
            // An analysis decodes and merges profiles: far dearer than a field that reads a row. Its weight lets
            // GraphQLMaxComplexity bound how many one request may ask for (aliases would otherwise repeat it freely).
            foreach (string expensive in ExpensiveFields)
            {
                schema.Query.GetField(expensive)?.WithComplexityImpact(AnalysisImpact);
            }

            // The web UI's menu is a few shipped entries, asked with their sub-entries while it starts: counted as the
            // lists they are, not as lists that could be long (which would refuse the UI's own document).
            schema.Query.GetField("getMenuItems")?.WithComplexityImpact(1, 1);
            ((IComplexGraphType?)schema.AllTypes["MenuItem"])?.GetField("subItems")?.WithComplexityImpact(1, 1);

            schema.Initialize();
            return schema;
        });
        return services;
    }

    internal static IEndpointRouteBuilder MapGraphQLEndpoint(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost(Path, HandleAsync);
        return endpoints;
    }

    private static async Task HandleAsync(
        HttpContext context, ISchema schema, IDocumentExecuter executer, GraphQLSerializer serializer, ServerOptions options, ComplexityOptions complexity, AnalysisService analysis, ILoggerFactory loggers)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = options.MaxRequestBodyBytes;
        }

        GraphQLRequest? request;
        try
        {
            request = await serializer.ReadAsync<GraphQLRequest>(context.Request.Body, context.RequestAborted).ConfigureAwait(false);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await WriteErrorAsync(context, StatusCodes.Status413PayloadTooLarge, $"the request body is larger than {options.MaxRequestBodyBytes} bytes (MaxRequestBodyBytes)").ConfigureAwait(false);
            return;
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or BadHttpRequestException or InvalidOperationException or NotSupportedException)
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, $"the request body is not a GraphQL request: {OneLine(e)}").ConfigureAwait(false);
            return;
        }

        if (request is null || string.IsNullOrWhiteSpace(request.Query))
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "the request has no query").ConfigureAwait(false);
            return;
        }

        // Parsed here, not by the executer, so that the document's size is measured before any validation rule
        // walks it, and so that a document the parser refuses is a one-line answer rather than a logged fault.
        GraphQLDocument document;
        try
        {
            document = Parser.Parse(request.Query, new ParserOptions { MaxDepth = ParserDepth(options), Ignore = IgnoreOptions.Comments });
        }
        catch (GraphQLParserException e)
        {
            string reason = e is GraphQLMaxDepthExceededException
                ? $"the query nests deeper than the parser accepts ({ParserDepth(options)} levels, from GraphQLMaxDepth)"
                : $"the query is not valid GraphQL: {OneLine(e)}";
            await RefuseAsync(context, serializer, loggers, reason).ConfigureAwait(false);
            return;
        }

        if (DocumentBudget.Check(document, options.GraphQLMaxFields, options.GraphQLMaxExpandedFields) is { } tooLarge)
        {
            await RefuseAsync(context, serializer, loggers, tooLarge).ConfigureAwait(false);
            return;
        }

        var phases = new AnalysisPhases();
        AnalysisPhases.Current = phases;
        ExecutionResult result = await executer.ExecuteAsync(execution =>
        {
            execution.Schema = schema;
            execution.Query = request.Query;
            execution.Document = document;
            execution.Variables = request.Variables;
            execution.OperationName = request.OperationName;
            execution.RequestServices = context.RequestServices;
            // One pattern-matching budget for all the analyses this document asks for (AnalysisFilterSeconds).
            execution.UserContext = new Dictionary<string, object?> { [MatchBudgetKey] = analysis.NewMatchBudget() };
            execution.ValidationRules = DocumentValidator.CoreRules.Concat(
            [
                new ReadOnlyAccessRule(ApiAccess.LevelOf(context)),
                new ComplexityValidationRule(complexity),
            ]);
            execution.CancellationToken = context.RequestAborted;
            execution.UnhandledExceptionDelegate = failure =>
            {
                // A fault of ours, not of the request: logged with its stack, answered without internals.
                LogResolverFailed(loggers.CreateLogger(typeof(GraphQLEndpoint).FullName!), failure.FieldContext?.FieldDefinition.Name ?? "(none)", failure.OriginalException);
                failure.ErrorMessage = "internal server error; the server log has the details";
                return Task.CompletedTask;
            };
        }).ConfigureAwait(false);
        context.Response.ContentType = "application/json; charset=utf-8";
        // How long reading and running the document took, before the answer is written: browsers show it beside the
        // request's timing (the Server-Timing header), which tells the server's share of a slow page from the rest.
        // The analyses' phases follow (docs/server.md, "Server-Timing").
        context.Response.Headers["Server-Timing"] = string.Create(
            CultureInfo.InvariantCulture, $"execute;dur={System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds:F1}") + phases.ToServerTiming();
        await serializer.WriteAsync(context.Response.Body, result, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs the document the analysis page sends first through the executer and the serializer, so that the first
    /// person to open a page after a start does not wait for its code to be compiled: for the task whose view was kept
    /// last, whose first look is read and then forgotten (nothing of it stays cached, and its tree is not read ahead), or,
    /// with none kept, for a task that does not exist.
    /// </summary>
    /// <returns>The task warmed up on, or <c>null</c>.</returns>
    internal static async Task<string?> WarmUpAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        const string Document = """
            query ($id: String!, $tid: ID!, $r: PprofAnalyzationRequest!, $l: PprofTaskListRequest!) {
              queryPprofTaskProgress(taskId: $id) { instances { instanceId instanceName state } logs { instanceName operationType message } }
              queryPprofSampleTypes(taskId: $tid) { index type unit isDefault }
              queryPprofTaskList(request: $l) { tasks { id events createTime } }
              queryPprofFlameView(request: $r, zoom: [], width: 1400) {
                sampleType { type unit } total span minTotal ancestors { node name total } names files
                frameColumns { node parent nameIndex total self matched } narrowerColumns { parent count total } matchedTotal }
              queryPprofTop(request: $r, limit: 300) { rowCount rows { name flat flatPercent cum cumPercent } }
            }
            """;
        using IServiceScope scope = services.CreateScope();
        var analysis = scope.ServiceProvider.GetRequiredService<AnalysisService>();
        var store = scope.ServiceProvider.GetRequiredService<Storage.IProfilingStore>();
        string? kept = await store.NewestKeptViewTaskAsync(cancellationToken).ConfigureAwait(false);
        Tasks.ProfilingTask? task = kept is null ? null : await store.FindTaskAsync(kept, cancellationToken).ConfigureAwait(false);
        string taskId = task?.Id ?? "flamewright-warm-up";
        var inputs = new Inputs(new Dictionary<string, object?>
        {
            ["id"] = taskId,
            ["tid"] = taskId,
            ["r"] = new Dictionary<string, object?> { ["taskId"] = taskId, ["instanceIds"] = new List<object?>(), ["granularity"] = "FUNCTION" },
            ["l"] = new Dictionary<string, object?> { ["serviceId"] = task?.ServiceId ?? taskId, ["limit"] = 50 },
        });
        try
        {
            ExecutionResult result = await scope.ServiceProvider.GetRequiredService<IDocumentExecuter>().ExecuteAsync(execution =>
            {
                execution.Schema = scope.ServiceProvider.GetRequiredService<ISchema>();
                execution.Query = Document;
                execution.Variables = inputs;
                execution.RequestServices = scope.ServiceProvider;
                execution.UserContext = new Dictionary<string, object?> { [MatchBudgetKey] = analysis.NewMatchBudget(), [WarmUpKey] = true };
                execution.CancellationToken = cancellationToken;
            }).ConfigureAwait(false);
            await scope.ServiceProvider.GetRequiredService<GraphQLSerializer>().WriteAsync(Stream.Null, result, cancellationToken).ConfigureAwait(false);
            return task?.Id;
        }
        finally
        {
            analysis.Forget(taskId);
        }
    }

    /// <summary>Set in the user context of the warm-up's document: its first look does not read the tree ahead.</summary>
    internal const string WarmUpKey = "flamewright.warmUp";

    /// <summary>
    /// How deep the parser may nest: a selection level is a field and its selection set, and argument values nest
    /// too, so four parser levels per <see cref="ServerOptions.GraphQLMaxDepth"/> level leave room for every query
    /// the depth rule accepts, while a document nested a hundred thousand levels deep stops at once.
    /// </summary>
    private static int ParserDepth(ServerOptions options) => (options.GraphQLMaxDepth * 4) + 16;

    /// <summary>A document refused before it runs: a GraphQL error (HTTP 200, as for any invalid query) and one warning line.</summary>
    private static async Task RefuseAsync(HttpContext context, GraphQLSerializer serializer, ILoggerFactory loggers, string reason)
    {
        LogDocumentRefused(loggers.CreateLogger(typeof(GraphQLEndpoint).FullName!), context.Connection.RemoteIpAddress?.ToString() ?? "?", new LogText(reason));
        var result = new ExecutionResult { Errors = [new ExecutionError(reason)] };
        context.Response.ContentType = "application/json; charset=utf-8";
        await serializer.WriteAsync(context.Response.Body, result, context.RequestAborted).ConfigureAwait(false);
    }

    private static async Task WriteErrorAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.WriteAsJsonAsync(new { errors = new[] { new { message } } }, context.RequestAborted).ConfigureAwait(false);
    }

    private static string OneLine(Exception e) => e.Message.ReplaceLineEndings(" ");

    [LoggerMessage(EventId = 401, Level = LogLevel.Warning, Message = "Refused a GraphQL document from {Remote}: {Reason}")]
    private static partial void LogDocumentRefused(ILogger logger, string remote, LogText reason);

    [LoggerMessage(EventId = 400, Level = LogLevel.Error, Message = "GraphQL field {Field} failed")]
    private static partial void LogResolverFailed(ILogger logger, string field, Exception exception);
}
