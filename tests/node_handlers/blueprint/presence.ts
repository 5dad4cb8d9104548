// The latest presence of each user, in DynamoDB (the blueprint's table).
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import config from "./config";
import type { GenesysEvent } from "./genesys";

const docClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: config.region }));

export async function savePresence(event: GenesysEvent): Promise<void> {
  const topic = /^v2\.users\.([^.]+)\.presence$/.exec(event.detail.topicName);
  if (!topic || !config.presenceTable) return;
  await docClient.send(new PutCommand({
    TableName: config.presenceTable,
    Item: {
      user_id: topic[1],
      updated_on: event.detail.timestamp,
      presence: event.detail.eventBody.presenceDefinition?.systemPresence,
    },
  }));
}
