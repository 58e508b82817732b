using System.Text.Json.Nodes;
using GraphQL;
using GraphQL.Types;
using GraphQL.Utilities;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Sdk;

namespace Flamewright.Server.Tests.Query;

/// <summary>
/// The GraphQL schema users' tools are written against: SkyWalking's fields and types exactly as
/// docs/server.md gives them, extensions only where reference clients never look, and a
/// checked-in baseline that makes every change to the schema a reviewed one.
/// </summary>
public sealed class GraphQLSchemaTests
{
    /// <summary>Set to 1 to rewrite the baselines from what the server prints, after reviewing the difference.</summary>
    private const string UpdateVariable = "FLAMEWRIGHT_UPDATE_BASELINES";

    private static readonly string s_baseline = Path.Combine(TestData.RepositoryRoot, "test", "Flamewright.Server.Tests", "Baselines", "schema.graphql");

    /// <summary>Every output field and operation of the wire doc, as SDL writes it.</summary>
    private static readonly (string Type, string Signature)[] s_wireFields =
    [
        ("Mutation", "createPprofTask(pprofTaskCreationRequest: PprofTaskCreationRequest!): PprofTaskCreationResult!"),
        ("Query", "queryPprofTaskList(request: PprofTaskListRequest!): PprofTaskListResult!"),
        ("Query", "queryPprofTaskProgress(taskId: String!): PprofTaskProgress!"),
        ("Query", "queryPprofAnalyze(request: PprofAnalyzationRequest!): PprofAnalyzation!"),
        ("Query", "version: String"),
        ("Query", "listLayers: [String!]!"),
        ("Query", "listServices(layer: String): [Service!]!"),
        ("Query", "getAllServices(duration: Duration!, group: String): [Service!]!"),
        ("Query", "getService(serviceId: String!): Service"),
        ("Query", "listInstances(duration: Duration!, serviceId: ID!): [ServiceInstance!]!"),
        ("Query", "getInstance(instanceId: String!): ServiceInstance"),
        ("Query", "findEndpoint(keyword: String, serviceId: ID!, limit: Int!, duration: Duration): [Endpoint!]!"),
        ("Query", "getEndpointInfo(endpointId: ID!): EndpointInfo"),
        ("Query", "listProcesses(duration: Duration!, instanceId: ID!): [Process!]!"),
        ("Query", "getProcess(processId: ID!): Process"),
        ("Query", "getTimeInfo: TimeInfo"),
        ("Query", "getRecordsTTL: RecordsTTL"),
        ("Query", "getMetricsTTL: MetricsTTL"),
        ("Query", "hasQueryTracesV2Support: Boolean!"),
        ("Query", "getMenuItems: [MenuItem!]!"),
        ("Query", "getAllTemplates: [DashboardConfiguration!]!"),
        ("Query", "getTemplate(id: String!): DashboardConfiguration"),
        ("Mutation", "addTemplate(setting: NewDashboardSetting!): TemplateChangeStatus!"),
        ("Mutation", "changeTemplate(setting: DashboardSetting!): TemplateChangeStatus!"),
        ("Mutation", "disableTemplate(id: String!): TemplateChangeStatus!"),
        ("PprofTaskCreationResult", "code: PprofTaskCreationType!"),
        ("PprofTaskCreationResult", "errorReason: String"),
        ("PprofTaskCreationResult", "id: String"),
        ("PprofTaskListResult", "errorReason: String"),
        ("PprofTaskListResult", "tasks: [PprofTask!]"),
        ("PprofTask", "id: String!"),
        ("PprofTask", "serviceId: String!"),
        ("PprofTask", "serviceInstanceIds: [String!]!"),
        ("PprofTask", "createTime: Long!"),
        ("PprofTask", "events: PprofEventType!"),
        ("PprofTask", "duration: Int"),
        ("PprofTask", "dumpPeriod: Int"),
        ("PprofTaskProgress", "logs: [PprofTaskLog!]"),
        ("PprofTaskProgress", "errorInstanceIds: [ID]"),
        ("PprofTaskProgress", "successInstanceIds: [ID]"),
        ("PprofTaskLog", "id: String!"),
        ("PprofTaskLog", "instanceId: ID!"),
        ("PprofTaskLog", "instanceName: String!"),
        ("PprofTaskLog", "operationType: PprofTaskLogOperationType!"),
        ("PprofTaskLog", "operationTime: Long!"),
        ("PprofAnalyzation", "tree: PprofStackTree"),
        ("PprofStackTree", "elements: [PprofStackElement!]"),
        ("PprofStackElement", "id: ID!"),
        ("PprofStackElement", "parentId: ID!"),
        ("PprofStackElement", "codeSignature: String!"),
        ("PprofStackElement", "total: Long!"),
        ("PprofStackElement", "self: Long!"),
        ("Service", "id: ID!"),
        ("Service", "name: String!"),
        ("Service", "group: String!"),
        ("Service", "shortName: String!"),
        ("Service", "layers: [String!]!"),
        ("Service", "normal: Boolean"),
        ("ServiceInstance", "id: ID!"),
        ("ServiceInstance", "name: String!"),
        ("ServiceInstance", "attributes: [Attribute!]!"),
        ("ServiceInstance", "language: Language!"),
        ("ServiceInstance", "instanceUUID: String!"),
        ("Attribute", "name: String!"),
        ("Attribute", "value: String!"),
        ("TimeInfo", "timezone: String"),
        ("TimeInfo", "currentTimestamp: Long"),
        ("RecordsTTL", "normal: Int!"),
        ("RecordsTTL", "trace: Int!"),
        ("RecordsTTL", "zipkinTrace: Int!"),
        ("RecordsTTL", "log: Int!"),
        ("RecordsTTL", "browserErrorLog: Int!"),
        ("RecordsTTL", "coldNormal: Int!"),
        ("RecordsTTL", "coldTrace: Int!"),
        ("RecordsTTL", "coldZipkinTrace: Int!"),
        ("RecordsTTL", "coldLog: Int!"),
        ("RecordsTTL", "coldBrowserErrorLog: Int!"),
        ("MetricsTTL", "metadata: Int!"),
        ("MetricsTTL", "minute: Int!"),
        ("MetricsTTL", "hour: Int!"),
        ("MetricsTTL", "day: Int!"),
        ("MetricsTTL", "coldMinute: Int!"),
        ("MetricsTTL", "coldHour: Int!"),
        ("MetricsTTL", "coldDay: Int!"),
        ("Endpoint", "id: ID!"),
        ("Endpoint", "name: String!"),
        ("EndpointInfo", "id: ID!"),
        ("EndpointInfo", "name: String!"),
        ("EndpointInfo", "serviceId: ID!"),
        ("EndpointInfo", "serviceName: String!"),
        ("Process", "id: ID!"),
        ("Process", "name: String!"),
        ("Process", "serviceId: ID!"),
        ("Process", "serviceName: String!"),
        ("Process", "instanceId: ID!"),
        ("Process", "instanceName: String!"),
        ("Process", "agentId: String!"),
        ("Process", "detectType: String!"),
        ("Process", "attributes: [Attribute!]!"),
        ("Process", "labels: [String!]!"),
        ("DashboardConfiguration", "id: String!"),
        ("DashboardConfiguration", "configuration: String!"),
        ("TemplateChangeStatus", "id: String!"),
        ("TemplateChangeStatus", "status: Boolean!"),
        ("TemplateChangeStatus", "message: String"),
        ("MenuItem", "title: String!"),
        ("MenuItem", "icon: String"),
        ("MenuItem", "layer: String!"),
        ("MenuItem", "activate: Boolean!"),
        ("MenuItem", "subItems: [MenuItem!]!"),
        ("MenuItem", "description: String"),
        ("MenuItem", "documentLink: String"),
        ("MenuItem", "i18nKey: String"),
    ];

    /// <summary>Every input type of the wire doc with its fields; ours may add optional ones only.</summary>
    private static readonly (string Type, string[] Fields)[] s_wireInputs =
    [
        ("Duration", ["start: String!", "end: String!", "step: Step!", "coldStage: Boolean"]),
        ("PprofTaskCreationRequest", ["serviceId: ID!", "serviceInstanceIds: [String!]!", "duration: Int", "events: PprofEventType!", "dumpPeriod: Int"]),
        ("PprofTaskListRequest", ["serviceId: ID!", "queryDuration: Duration", "limit: Int"]),
        ("PprofAnalyzationRequest", ["taskId: ID!", "instanceIds: [String!]!"]),
        ("NewDashboardSetting", ["configuration: String!"]),
        ("DashboardSetting", ["id: String!", "configuration: String!"]),
    ];

    private static readonly (string Type, string[] Values)[] s_wireEnums =
    [
        ("Step", ["DAY", "HOUR", "MINUTE", "SECOND"]),
        ("PprofEventType", ["CPU", "HEAP", "BLOCK", "MUTEX", "GOROUTINE", "THREADCREATE", "ALLOCS"]),
        ("PprofTaskCreationType", ["SUCCESS", "ARGUMENT_ERROR", "ALREADY_PROFILING_ERROR"]),
        ("PprofTaskLogOperationType", ["NOTIFIED", "EXECUTION_FINISHED", "PPROF_UPLOAD_FILE_TOO_LARGE_ERROR", "EXECUTION_TASK_ERROR"]),
        ("Language", ["UNKNOWN", "JAVA", "DOTNET", "NODEJS", "PYTHON", "RUBY", "GO", "LUA", "PHP"]),
    ];

    [Fact(Timeout = Spec.Timeout)]
    public Task The_printed_schema_equals_the_checked_in_baseline() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        ISchema schema = server.Server.Services.GetRequiredService<ISchema>();
        // GraphQL.NET's printer (schema.Print() replaced the obsolete SchemaPrinter in v8), sorted by name.
        string printed = schema.Print(new PrintOptions { IncludeDescriptions = true }).ReplaceLineEndings("\n").TrimEnd('\n') + "\n";

        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(s_baseline)!);
            await File.WriteAllTextAsync(s_baseline, printed);
            return;
        }

        string expected = File.Exists(s_baseline) ? (await File.ReadAllTextAsync(s_baseline)).ReplaceLineEndings("\n") : "";
        if (printed != expected)
        {
            string[] want = expected.Split('\n');
            string[] got = printed.Split('\n');
            int line = Enumerable.Range(0, Math.Max(want.Length, got.Length)).First(i => i >= want.Length || i >= got.Length || want[i] != got[i]);
            throw new XunitException(
                $"The GraphQL schema differs from the baseline {s_baseline} at line {line + 1}:\n" +
                $"  baseline: {(line < want.Length ? want[line] : "(end)")}\n" +
                $"  server:   {(line < got.Length ? got[line] : "(end)")}\n" +
                "Clients (the SkyWalking UI, swctl, scripts) are written against this schema. If the change is intended, " +
                $"rewrite the baseline with {UpdateVariable}=1 dotnet test test/Flamewright.Server.Tests --filter {nameof(The_printed_schema_equals_the_checked_in_baseline)} " +
                "and commit it with the change.");
        }
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Every_field_and_operation_of_SkyWalkings_pprof_and_metadata_schema_has_its_exact_type() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GraphQLClient graphql = server.GraphQL();
        SchemaConformance schema = await graphql.SchemaAsync();

        Assert.All(s_wireFields, f => Assert.Equal(f.Signature, schema.Signature(f.Type, f.Signature.Split(['(', ':'])[0])));
        Assert.All(s_wireEnums, e => Assert.Equal(e.Values, schema.EnumValues(e.Type)));
        Assert.Equal("SCALAR", (string?)schema.Type("Long")["kind"]);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task SkyWalkings_inputs_keep_their_fields_and_our_extensions_to_them_are_optional() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GraphQLClient graphql = server.GraphQL();
        SchemaConformance schema = await graphql.SchemaAsync();

        foreach ((string type, string[] fields) in s_wireInputs)
        {
            IReadOnlyList<string> actual = schema.InputFields(type);
            Assert.All(fields, f => Assert.Contains(f, actual));
            Assert.All(actual.Except(fields), extension => Assert.False(extension.EndsWith('!'), $"{type}.{extension} would break clients that do not send it"));
        }
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_answer_checker_refuses_values_of_the_wrong_JSON_type() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GraphQLClient graphql = server.GraphQL();
        SchemaConformance schema = await graphql.SchemaAsync();
        const string Document = "query { queryPprofTaskList(request: {serviceId: \"x\"}) { tasks { id createTime events duration } } }";

        schema.Check(Document, Tasks("""{"id":"1_x","createTime":1,"events":"CPU","duration":null}"""));
        Assert.Throws<ExpectationException>(() => schema.Check(Document, Tasks("""{"id":"1_x","createTime":"1","events":"CPU","duration":null}""")));
        Assert.Throws<ExpectationException>(() => schema.Check(Document, Tasks("""{"id":1,"createTime":1,"events":"CPU","duration":null}""")));
        Assert.Throws<ExpectationException>(() => schema.Check(Document, Tasks("""{"id":"1_x","createTime":1,"events":"cpu","duration":null}""")));
        Assert.Throws<ExpectationException>(() => schema.Check(Document, Tasks("""{"id":null,"createTime":1,"events":"CPU","duration":null}""")));
        Assert.Throws<ExpectationException>(() => schema.Check(Document, Tasks("""{"id":"1_x","createTime":1.5,"events":"CPU","duration":null}""")));
        Assert.Throws<ExpectationException>(() => schema.Check(Document, Tasks("""{"id":"1_x","createTime":1,"events":"CPU","duration":null,"extra":1}""")));

        static JsonNode Tasks(string task) => JsonNode.Parse($$$"""{"queryPprofTaskList":{"tasks":[{{{task}}}]}}""")!;
    });
}
