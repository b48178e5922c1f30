package awsevents_test

import (
	"context"
	"log"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard/awsevents"
	"github.com/cognitoguard/cognitoguard/events"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

// The long-running consumer: the services' Redis store, write-only (the
// consumer verifies no token), and the queue of the template's rule.
func ExampleNewSQS() {
	ctx := context.Background()
	client := redis.NewClient(&redis.Options{Addr: "redis:6379"})
	store, err := redisstore.New(client, redisstore.Config{WriteOnly: true, WaitReplicas: 1})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	c, err := events.New(store, []events.Pool{{ID: "eu-west-1_AbCdEf123"}}, events.Config{Logger: logger})
	if err != nil {
		log.Fatal(err)
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("eu-west-1"))
	if err != nil {
		log.Fatal(err)
	}
	q, err := awsevents.NewSQS(sqs.NewFromConfig(awsCfg), os.Getenv("QUEUE_URL"), awsevents.SQSConfig{})
	if err != nil {
		log.Fatal(err)
	}
	if err := c.Run(ctx, q); err != nil {
		log.Fatal(err)
	}
}

// The consumer as an AWS Lambda function fed by the queue (an event
// source mapping with ReportBatchItemFailures): pass the handler to
// lambda.Start from github.com/aws/aws-lambda-go/lambda.
func ExampleNewHandler() {
	client := redis.NewClient(&redis.Options{Addr: os.Getenv("REDIS_ADDR")})
	store, err := redisstore.New(client, redisstore.Config{WriteOnly: true})
	if err != nil {
		log.Fatal(err)
	}
	c, err := events.New(store, []events.Pool{{ID: "eu-west-1_AbCdEf123"}}, events.Config{})
	if err != nil {
		log.Fatal(err)
	}
	handler, err := awsevents.NewHandler(c)
	if err != nil {
		log.Fatal(err)
	}
	_ = handler // lambda.Start(handler)
}
